#!/bin/bash -eu
# Builds fuzz_schedule the OSS-Fuzz way: compilers and flags from $CC, $CXX,
# $CFLAGS and $CXXFLAGS, the engine from $LIB_FUZZING_ENGINE, everything into
# $OUT (the target, its seed corpus, .options and .dict).
SRC_DIR=${FAULTLINE_SRC:-$SRC/faultline}
BUILD_DIR=${WORK:-/tmp}/faultline-build
cd "$SRC_DIR"

# OSS-Fuzz builds C++ against libc++ (-stdlib=libc++ in $CXXFLAGS), but
# protobuf, fmt and Boost come from the distribution, built against
# libstdc++: the target uses libstdc++ too. (So MemorySanitizer, which needs
# every library instrumented, is not supported; AddressSanitizer and
# UndefinedBehaviorSanitizer are.)
CXXFLAGS=${CXXFLAGS//-stdlib=libc++/}
# Tasks run on fiber stacks in the heap: libFuzzer's deepest-stack feature
# would measure how far a heap block lies from the main stack, an address.
CFLAGS="$CFLAGS -fno-sanitize-coverage=stack-depth"
CXXFLAGS="$CXXFLAGS -fno-sanitize-coverage=stack-depth"

cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DFAULTLINE_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DFAULTLINE_BUILD_TESTS=OFF -DFAULTLINE_BUILD_BENCH=OFF
cmake --build "$BUILD_DIR" --target fuzz_schedule faultline fuzz_dict

cp "$BUILD_DIR/bin/fuzz_schedule" "$OUT/"
rm -rf "$BUILD_DIR/seeds"
"$BUILD_DIR/bin/faultline" corpus convert corpus/seeds "$BUILD_DIR/seeds" --to binary
rm -f "$OUT/fuzz_schedule_seed_corpus.zip"
zip -j -q "$OUT/fuzz_schedule_seed_corpus.zip" "$BUILD_DIR/seeds"/*
cp .clusterfuzzlite/fuzz_schedule.options "$BUILD_DIR/fuzz_schedule.dict" "$OUT/"
