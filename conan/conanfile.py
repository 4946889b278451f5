# Conan 2 recipe for hat: a header-only library whose components mirror the CMake targets
# hat::hat (core), hat::cpu (xtensor + OpenBLAS), hat::text (zlib + SentencePiece), hat::torch
# (libzip) and hat::cuda (cuBLAS). Its dependencies are
# Debian system packages (scripts/install-deps), so the recipe names them as system libraries
# instead of Conan requirements.
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load


class HatConan(ConanFile):
    name = "hat"
    description = "Hardware-Aware Transformers as a header-only C++20 template library"
    license = "MIT"
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"cpu": [True, False], "text": [True, False], "torch": [True, False], "cuda": [True, False]}
    default_options = {"cpu": True, "text": True, "torch": True, "cuda": False}
    no_copy_source = True

    def set_version(self):
        # One source of truth: the version in CMakeLists.txt.
        cmake = load(self, os.path.join(self.recipe_folder, "..", "CMakeLists.txt"))
        self.version = re.search(r"project\(hat VERSION ([0-9.]+)", cmake).group(1)

    def export_sources(self):
        root = os.path.join(self.recipe_folder, "..")
        copy(self, "include/*", root, self.export_sources_folder)
        copy(self, "LICENSE", root, self.export_sources_folder)

    def validate(self):
        if self.settings.get_safe("compiler.cppstd"):
            check_min_cppstd(self, 20)

    def package(self):
        copy(self, "include/*", self.source_folder, self.package_folder)
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))

    def package_id(self):
        self.info.clear()

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "hat")

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "hat::hat")
        core.includedirs = ["include"]
        core.bindirs = []
        core.libdirs = []
        core.system_libs = ["yaml-cpp"]  # Boost.Hana is header-only, from /usr/include

        if self.options.cpu:
            cpu = self.cpp_info.components["cpu"]
            cpu.set_property("cmake_target_name", "hat::cpu")
            cpu.requires = ["core"]
            cpu.includedirs = []
            cpu.bindirs = []
            cpu.libdirs = []
            cpu.defines = ["XTENSOR_USE_XSIMD"]
            cpu.system_libs = ["openblas", "dl"]  # dl: oneDNN, loaded at run time

        if self.options.text:
            text = self.cpp_info.components["text"]
            text.set_property("cmake_target_name", "hat::text")
            text.requires = ["core"]
            text.includedirs = []
            text.bindirs = []
            text.libdirs = []
            text.system_libs = ["sentencepiece_train", "sentencepiece", "z"]  # and nlohmann-json, header-only

        if self.options.torch:
            torch = self.cpp_info.components["torch"]
            torch.set_property("cmake_target_name", "hat::torch")
            torch.requires = ["core"]
            torch.includedirs = []
            torch.bindirs = []
            torch.libdirs = []
            torch.system_libs = ["zip"]  # and nlohmann-json (safetensors headers), header-only

        if self.options.cuda:
            cuda = self.cpp_info.components["cuda"]
            cuda.set_property("cmake_target_name", "hat::cuda")
            cuda.requires = ["core"]
            cuda.includedirs = []
            cuda.bindirs = []
            cuda.libdirs = []
            cuda.cxxflags = ["-I/usr/local/cuda/include"]
            cuda.sharedlinkflags = cuda.exelinkflags = ["-L/usr/local/cuda/lib64"]
            cuda.system_libs = ["cublas", "cudart"]
