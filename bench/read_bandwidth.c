/* Streaming read bandwidth of this machine: N threads each sum their share of a 1 GiB buffer
 * (wide loads, four independent accumulators), best of 5 passes, printed in GB/s. The roofline of
 * compare_llamacpp.py divides it by the weight bytes one decoded token reads. Built on demand
 * with the host compiler and -march=native, so the loads are as wide as the kernels' own. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t v4u64 __attribute__((vector_size(32)));

static const size_t kBytes = (size_t)1 << 30;
static unsigned char* buffer;
static int n_threads;

static void* sum_share(void* arg) {
  const size_t index = (size_t)(intptr_t)arg, share = kBytes / (size_t)n_threads;
  const v4u64* p = (const v4u64*)(buffer + index * share);
  const size_t n = share / sizeof(v4u64);
  v4u64 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
  for (size_t i = 0; i + 4 <= n; i += 4) {
    s0 += p[i];
    s1 += p[i + 1];
    s2 += p[i + 2];
    s3 += p[i + 3];
  }
  v4u64 s = s0 + s1 + s2 + s3;
  return (void*)(intptr_t)(s[0] + s[1] + s[2] + s[3]);  /* used, so the loads stay */
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char** argv) {
  n_threads = argc > 1 ? atoi(argv[1]) : 1;
  if (n_threads < 1 || n_threads > 256) return 2;
  if (posix_memalign((void**)&buffer, 64, kBytes) != 0) return 1;
  memset(buffer, 1, kBytes);
  double best = 0.0;
  uint64_t sink = 0;
  for (int pass = 0; pass < 5; ++pass) {
    pthread_t threads[256];
    const double start = now();
    for (int t = 0; t < n_threads; ++t) pthread_create(&threads[t], NULL, sum_share, (void*)(intptr_t)t);
    for (int t = 0; t < n_threads; ++t) {
      void* r;
      pthread_join(threads[t], &r);
      sink += (uint64_t)(intptr_t)r;
    }
    const double gbs = (double)kBytes / (now() - start) / 1e9;
    if (gbs > best) best = gbs;
  }
  printf("%.2f %llu\n", best, (unsigned long long)(sink & 1));
  return 0;
}
