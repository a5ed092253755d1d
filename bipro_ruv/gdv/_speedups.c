/*
 * bipro_ruv.gdv._speedups: the compiled field decoder of the GDV parser.
 *
 * One Decoder per Teildatensatz layout turns a 256-character record text into its Part
 * (a tuple subclass), doing in C what bipro_ruv.gdv.layouts._compile does in Python:
 * cut every field and convert it. It only takes the usual shapes of a field (blank, all
 * digits, a valid TTMMJJJJ date, plain text); anything else is handed to the field's
 * Python converter (the memo of bipro_ruv.gdv.values), so invalid values, partial dates,
 * odd whitespace and the memo limits behave exactly as in the pure-Python decoder. The
 * tests compare both decoders on generated, real and fuzzed records.
 *
 * A record text that is not a one-byte (Latin-1 range) str, or is shorter than the
 * layout, is decoded by the pure-Python decoder given as fallback.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <stddef.h>
#include <string.h>

/* What the decoder does with a field. Every kind but K_MEMO gives None for an all-blank
 * field without a lookup; then the field's text is looked up in its memo, and a miss of
 * the usual shape is converted here and kept in the memo (while below its limit). */
enum {
    K_MEMO = 0,    /* converter[text] (Python): sign bytes, the VSNR */
    K_TEXT = 1,    /* A: the text without trailing whitespace */
    K_NUM = 2,     /* N: all digits -> the digits */
    K_AMOUNT = 3,  /* F: all digits -> Decimal with `decimals` implied decimals */
    K_DATE = 4,    /* D: valid TTMMJJJJ -> datetime.date */
};

typedef struct {
    Py_ssize_t start;    /* 0-based */
    Py_ssize_t length;
    int kind;
    int decimals;
    Py_ssize_t sign;     /* 0-based column of the amount's sign byte, -1 if none */
    Py_ssize_t limit;    /* the memo's size limit (insert only below it) */
    PyObject *memo;      /* the field's converter (a dict subclass with __missing__) */
} FieldSpec;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *cls;
    PyObject *fallback;
    Py_ssize_t count;
    Py_ssize_t min_length;
    FieldSpec *fields;
} Decoder;

static PyObject *DecimalType = NULL;
static char SPACES[256];

static int
is_blank(const Py_UCS1 *p, Py_ssize_t n)
{
    while (n >= 256) {
        if (memcmp(p, SPACES, 256) != 0) {
            return 0;
        }
        p += 256;
        n -= 256;
    }
    return memcmp(p, SPACES, (size_t)n) == 0;
}

static int
all_digits(const Py_UCS1 *p, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((unsigned)(p[i] - '0') > 9) {
            return 0;
        }
    }
    return 1;
}

/* converter[raw]: the Python path (new reference or NULL). */
static PyObject *
delegate(PyObject *memo, PyObject *text, Py_ssize_t start, Py_ssize_t length)
{
    PyObject *raw = PyUnicode_Substring(text, start, start + length);
    if (raw == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_GetItem(memo, raw);
    Py_DECREF(raw);
    return value;
}

/* Keep raw -> value in the memo while it is below its limit; at the limit the Python
 * path decides (it empties the memo down to its common texts). value is returned,
 * or NULL on error. Steals nothing. */
static PyObject *
remember(FieldSpec *f, PyObject *raw, PyObject *value)
{
    if (PyDict_GET_SIZE(f->memo) < f->limit) {
        if (PyDict_SetItem(f->memo, raw, value) < 0) {
            Py_DECREF(value);
            return NULL;
        }
        return value;
    }
    Py_DECREF(value);
    return PyObject_GetItem(f->memo, raw);
}

/* A memo lookup: a new reference, NULL with no error set when absent, NULL with an
 * error set on failure. */
static PyObject *
lookup(PyObject *memo, PyObject *raw)
{
    PyObject *value = PyDict_GetItemWithError(memo, raw);
    Py_XINCREF(value);
    return value;
}

static PyObject *
amount(FieldSpec *f, const Py_UCS1 *p)
{
    /* all digits, length > decimals: "<int>.<frac>" as Python's converter writes it */
    char buffer[128];
    Py_ssize_t n = f->length;
    Py_ssize_t d = f->decimals;
    if (n + 2 > (Py_ssize_t)sizeof(buffer)) {
        return NULL;
    }
    memcpy(buffer, p, (size_t)(n - d));
    Py_ssize_t used = n - d;
    if (d > 0) {
        buffer[used++] = '.';
        memcpy(buffer + used, p + n - d, (size_t)d);
        used += d;
    }
    PyObject *literal = PyUnicode_FromStringAndSize(buffer, used);
    if (literal == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_CallOneArg(DecimalType, literal);
    Py_DECREF(literal);
    return value;
}

static int
two(const Py_UCS1 *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* One field's value: a new reference, or NULL with an error set. */
static PyObject *
field_value(FieldSpec *f, PyObject *text, const Py_UCS1 *data)
{
    const Py_UCS1 *p = data + f->start;
    Py_ssize_t n = f->length;
    PyObject *raw, *value;

    if (f->kind == K_MEMO) {
        return delegate(f->memo, text, f->start, n);
    }
    if (is_blank(p, n)) {
        Py_RETURN_NONE;
    }

    raw = PyUnicode_Substring(text, f->start, f->start + n);
    if (raw == NULL) {
        return NULL;
    }
    value = lookup(f->memo, raw);
    if (value != NULL || PyErr_Occurred()) {
        Py_DECREF(raw);
        return value;
    }
    switch (f->kind) {
    case K_TEXT: {
        Py_ssize_t end = n;
        while (end > 0 && Py_UNICODE_ISSPACE(p[end - 1])) {
            end--;
        }
        if (end == 0) {
            value = PyObject_GetItem(f->memo, raw);
            break;
        }
        value = PyUnicode_Substring(text, f->start, f->start + end);
        if (value != NULL) {
            value = remember(f, raw, value);
        }
        break;
    }
    case K_NUM:
        if (!all_digits(p, n)) {
            value = PyObject_GetItem(f->memo, raw);
            break;
        }
        Py_INCREF(raw);
        value = remember(f, raw, raw);
        break;
    case K_AMOUNT:
        if (n <= f->decimals || !all_digits(p, n)) {
            value = PyObject_GetItem(f->memo, raw);
            break;
        }
        value = amount(f, p);
        if (value != NULL) {
            value = remember(f, raw, value);
        } else if (!PyErr_Occurred()) {
            value = PyObject_GetItem(f->memo, raw);
        }
        break;
    case K_DATE: {
        int day, month, year;
        if (n != 8 || !all_digits(p, 8)) {
            value = PyObject_GetItem(f->memo, raw);
            break;
        }
        day = two(p);
        month = two(p + 2);
        year = two(p + 4) * 100 + two(p + 6);
        if (day < 1 || day > 31 || month < 1 || month > 12 || year < 1) {
            value = PyObject_GetItem(f->memo, raw);  /* partial, empty or invalid: Python says */
            break;
        }
        value = PyDate_FromDate(year, month, day);
        if (value == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_ValueError)) {
                break;
            }
            PyErr_Clear();  /* 31.02.: the Python path makes it an InvalidValue */
            value = PyObject_GetItem(f->memo, raw);
            break;
        }
        value = remember(f, raw, value);
        break;
    }
    }
    Py_DECREF(raw);
    return value;
}

static PyObject *
Decoder_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Decoder *self = (Decoder *)callable;
    PyObject *text;
    if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "decode(text) takes exactly one argument");
        return NULL;
    }
    text = args[0];
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "decode(text) needs a str, not %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || PyUnicode_GET_LENGTH(text) < self->min_length) {
        return PyObject_CallOneArg(self->fallback, text);
    }
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
    PyObject *part = self->cls->tp_alloc(self->cls, self->count);
    if (part == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->count; i++) {
        FieldSpec *f = &self->fields[i];
        PyObject *value = field_value(f, text, data);
        if (value == NULL) {
            Py_DECREF(part);
            return NULL;
        }
        if (f->sign >= 0 && data[f->sign] == '-' && Py_IS_TYPE(value, (PyTypeObject *)DecimalType)) {
            int nonzero = PyObject_IsTrue(value);
            if (nonzero < 0) {
                Py_DECREF(value);
                Py_DECREF(part);
                return NULL;
            }
            if (nonzero) {
                PyObject *negative = PyNumber_Negative(value);
                Py_DECREF(value);
                if (negative == NULL) {
                    Py_DECREF(part);
                    return NULL;
                }
                value = negative;
            }
        }
        PyTuple_SET_ITEM(part, i, value);
    }
    /* A Part holds only values (str, Decimal, date, PartialDate, None), none of which can
     * refer back to it: it can never be part of a reference cycle, so the cyclic garbage
     * collector need not walk it (CPython untracks such plain tuples itself, but only
     * when a collection meets them). A 100 MB file makes 400,000 Parts of ~35 values. */
    PyObject_GC_UnTrack(part);
    return part;
}

static void
Decoder_dealloc(Decoder *self)
{
    if (self->fields != NULL) {
        for (Py_ssize_t i = 0; i < self->count; i++) {
            Py_XDECREF(self->fields[i].memo);
        }
        PyMem_Free(self->fields);
    }
    Py_XDECREF(self->cls);
    Py_XDECREF(self->fallback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bipro_ruv.gdv._speedups.Decoder",
    .tp_basicsize = sizeof(Decoder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "decoder(text) -> Part: the compiled decoder of one GDV layout",
    .tp_vectorcall_offset = offsetof(Decoder, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_dealloc = (destructor)Decoder_dealloc,
};

/* decoder(cls, fields, fallback): fields is a sequence of
 * (start0, length, kind, decimals, sign0, limit, memo) tuples. */
static PyObject *
make_decoder(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *cls, *spec, *fallback;
    if (!PyArg_ParseTuple(args, "O!OO:decoder", &PyType_Type, &cls, &spec, &fallback)) {
        return NULL;
    }
    if (!PyType_IsSubtype((PyTypeObject *)cls, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "cls must be a tuple subclass");
        return NULL;
    }
    PyObject *items = PySequence_Fast(spec, "fields must be a sequence");
    if (items == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    Decoder *self = PyObject_New(Decoder, &DecoderType);
    if (self == NULL) {
        Py_DECREF(items);
        return NULL;
    }
    self->vectorcall = Decoder_vectorcall;
    self->fields = PyMem_Calloc(count ? (size_t)count : 1, sizeof(FieldSpec));
    self->count = 0;
    self->min_length = 0;
    Py_INCREF(cls);
    self->cls = (PyTypeObject *)cls;
    Py_INCREF(fallback);
    self->fallback = fallback;
    if (self->fields == NULL) {
        Py_DECREF(items);
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        FieldSpec *f = &self->fields[i];
        PyObject *memo;
        PyObject *item = PySequence_Fast_GET_ITEM(items, i);
        if (!PyTuple_Check(item)) {
            PyErr_Format(PyExc_TypeError, "field %zd: a tuple is needed, not %.100s", i, Py_TYPE(item)->tp_name);
            Py_DECREF(items);
            Py_DECREF(self);
            return NULL;
        }
        if (!PyArg_ParseTuple(item, "nniinnO!:field", &f->start, &f->length, &f->kind, &f->decimals, &f->sign,
                              &f->limit, &PyDict_Type, &memo)) {
            Py_DECREF(items);
            Py_DECREF(self);
            return NULL;
        }
        if (f->start < 0 || f->length < 1 || f->kind < K_MEMO || f->kind > K_DATE || f->decimals < 0 ||
            f->decimals > 16 || f->length > 4096 || f->sign >= 4096) {
            PyErr_Format(PyExc_ValueError, "field %zd: bad specification", i);
            Py_DECREF(items);
            Py_DECREF(self);
            return NULL;
        }
        Py_INCREF(memo);
        f->memo = memo;
        self->count = i + 1;
        if (f->start + f->length > self->min_length) {
            self->min_length = f->start + f->length;
        }
        if (f->sign + 1 > self->min_length) {
            self->min_length = f->sign + 1;
        }
    }
    Py_DECREF(items);
    return (PyObject *)self;
}

static PyMethodDef methods[] = {
    {"decoder", make_decoder, METH_VARARGS,
     "decoder(cls, fields, fallback) -> Decoder\n\n"
     "fields: (start0, length, kind, decimals, sign0, limit, memo) per field."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "bipro_ruv.gdv._speedups",
    .m_doc = "The compiled field decoder of the GDV parser (see bipro_ruv.gdv.layouts).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    memset(SPACES, ' ', sizeof(SPACES));
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    PyObject *decimal = PyImport_ImportModule("decimal");
    if (decimal == NULL) {
        return NULL;
    }
    DecimalType = PyObject_GetAttrString(decimal, "Decimal");
    Py_DECREF(decimal);
    if (DecimalType == NULL) {
        return NULL;
    }
    if (PyType_Ready(&DecoderType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
#ifdef SOURCE_SHA256
    if (PyModule_AddStringConstant(m, "SOURCE_SHA256", SOURCE_SHA256) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    if (PyModule_AddIntConstant(m, "K_MEMO", K_MEMO) < 0 || PyModule_AddIntConstant(m, "K_TEXT", K_TEXT) < 0 ||
        PyModule_AddIntConstant(m, "K_NUM", K_NUM) < 0 || PyModule_AddIntConstant(m, "K_AMOUNT", K_AMOUNT) < 0 || PyModule_AddIntConstant(m, "K_DATE", K_DATE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
