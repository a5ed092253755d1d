"""Build hook: compile the GDV parser's field decoder (``bipro_ruv/gdv/_speedups.c``).

The extension is optional. Without a C compiler (or with ``BIPRO_RUV_PURE_PYTHON=1`` set
at install time) the package installs as pure Python and parses GDV files with the same
results, about half as fast; ``bipro-ruv --version`` says which decoder is in use.
``BIPRO_RUV_REQUIRE_SPEEDUPS=1`` turns a failed compile into a failed install. The module
records the SHA-256 of the source it was built from; the tests check that it is the source
in the checkout (an editable install needs ``pip install -e .`` again after editing the C
file) and that a machine with a C compiler did build it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODULE = "bipro_ruv.gdv._speedups"
SOURCE = "bipro_ruv/gdv/_speedups.c"


class SpeedupsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        required = bool(os.environ.get("BIPRO_RUV_REQUIRE_SPEEDUPS"))
        if os.environ.get("BIPRO_RUV_PURE_PYTHON") and not required:
            self.app.display_info(
                "bipro-ruv: BIPRO_RUV_PURE_PYTHON is set: the GDV decoder stays pure Python"
            )
            return
        work = Path(tempfile.mkdtemp(prefix="bipro-ruv-build-"))
        try:
            built = self._compile(work)
        except Exception as error:  # any compiler failure: install pure Python
            if required:
                raise RuntimeError(f"bipro-ruv: the GDV decoder did not compile: {error}") from error
            self.app.display_warning(
                f"bipro-ruv: the compiled GDV decoder was not built ({error}); "
                "installing the pure-Python decoder (same results, about half as fast)"
            )
            shutil.rmtree(work, ignore_errors=True)
            return
        target = f"bipro_ruv/gdv/{built.name}"
        if version == "editable":
            # An editable install imports from the source tree: the module goes there (git ignores it).
            shutil.copy2(built, Path(self.root) / target)
        else:
            build_data["force_include"][str(built)] = target
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def _compile(self, work: Path) -> Path:
        from setuptools import Distribution, Extension

        digest = hashlib.sha256((Path(self.root) / SOURCE).read_bytes()).hexdigest()
        extension = Extension(MODULE, sources=[SOURCE], define_macros=[("SOURCE_SHA256", f'"{digest}"')])
        distribution = Distribution({"name": "bipro-ruv-speedups", "ext_modules": [extension]})
        command: Any = distribution.get_command_obj("build_ext")
        command.build_lib = str(work / "lib")
        command.build_temp = str(work / "tmp")
        here = os.getcwd()
        os.chdir(self.root)
        try:
            command.ensure_finalized()
            command.run()
        finally:
            os.chdir(here)
        return Path(command.get_ext_fullpath(MODULE))
