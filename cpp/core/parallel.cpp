#include "core/parallel.h"

#include "core/error.h"

namespace kerasette {

int num_threads() { return omp_get_max_threads(); }

void set_num_threads(int n) {
  KS_CHECK(n >= 1, "Expected `num_threads` to be a positive integer. Received: num_threads=", n);
  omp_set_num_threads(n);
}

}  // namespace kerasette
