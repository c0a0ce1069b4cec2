// Debian's libopenblas-dev puts cblas.h on the default include path (via alternatives).
#include <cblas.h>
// OpenBLAS extension, not in the CBLAS standard: pins BLAS's own thread count to Easel's.
void openblas_set_num_threads(int num_threads);
