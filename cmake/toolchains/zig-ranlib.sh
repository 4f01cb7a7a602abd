#!/bin/sh
# zig's llvm-ranlib: the host's binutils cannot index Mach-O archives.
exec "${PLE_PYTHON:-python3}" -m ziglang ranlib "$@"
