#!/bin/sh
# zig's llvm-ar: the host's binutils cannot index Mach-O archives.
exec "${PLE_PYTHON:-python3}" -m ziglang ar "$@"
