// liblz4's block API, through pkg-config (Debian `liblz4-dev`): stage 1 compresses its
// sequenced packs itself (Sources/Pipeline/LZ4Block.swift).
#include <lz4.h>
