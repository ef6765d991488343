/* Loads the AFL++ custom mutator library the way afl-fuzz does (dlopen, no
 * protobuf in this process) and writes N chained mutants of an input:
 *   afl_mutator_host LIB INPUT OTHER N OUTDIR */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t slurp(const char* path, uint8_t* buf, size_t max) {
  FILE* f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, max, f);
  fclose(f);
  return n;
}

int main(int argc, char** argv) {
  if (argc != 6) return 2;
  void* lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  void* (*init)(void*, unsigned int) = (void* (*)(void*, unsigned int))dlsym(lib, "afl_custom_init");
  size_t (*fuzz)(void*, uint8_t*, size_t, uint8_t**, uint8_t*, size_t, size_t) =
      (size_t(*)(void*, uint8_t*, size_t, uint8_t**, uint8_t*, size_t, size_t))dlsym(lib, "afl_custom_fuzz");
  void (*deinit)(void*) = (void (*)(void*))dlsym(lib, "afl_custom_deinit");
  if (!init || !fuzz || !deinit) return 1;
  static uint8_t in[1 << 16], other[1 << 16];
  size_t n = slurp(argv[2], in, sizeof in), m = slurp(argv[3], other, sizeof other);
  void* state = init(NULL, 1234);
  for (int i = 0; i < atoi(argv[4]); ++i) {
    uint8_t* out = NULL;
    size_t k = fuzz(state, in, n, &out, other, m, 1024);
    if (k > 1024) return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/mutant-%04d.pb", argv[5], i);
    FILE* f = fopen(path, "wb");
    fwrite(out, 1, k, f);
    fclose(f);
    memcpy(in, out, k);
    n = k;
  }
  deinit(state);
  return 0;
}
