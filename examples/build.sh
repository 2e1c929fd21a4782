#!/bin/sh
# Rebuilds example-filter.wasm from its WebAssembly text source.
# Needs wat2wasm from wabt (Debian/Ubuntu: apt-get install wabt).
set -eu
cd "$(dirname "$0")"
wat2wasm example-filter.wat -o example-filter.wasm
