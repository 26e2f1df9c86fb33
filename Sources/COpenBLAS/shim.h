// OpenBLAS: CBLAS and the LAPACK routines it exports (declared by liblapacke-dev's lapack.h).
#ifndef GRADFLOW_COPENBLAS_SHIM_H
#define GRADFLOW_COPENBLAS_SHIM_H
#include <x86_64-linux-gnu/cblas.h>
#include <lapack.h>

/// Sets the number of threads OpenBLAS uses (declared by OpenBLAS' own cblas.h, not the generic one).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
/// The processors OpenBLAS sees, and its build configuration (which names MAX_THREADS).
int openblas_get_num_procs(void);
char *openblas_get_config(void);
#endif
