"""Build hook: compile the top-level gettext catalogs into the package's locale folder."""

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent


class BuildWithCatalogs(build_py):
    def run(self):
        super().run()
        spec = importlib.util.spec_from_file_location(
            "compile_catalogs", ROOT / "tools" / "compile_catalogs.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.compile_catalogs(ROOT / "locale", Path(self.build_lib) / "loyalty" / "locale")


setup(cmdclass={"build_py": BuildWithCatalogs})
