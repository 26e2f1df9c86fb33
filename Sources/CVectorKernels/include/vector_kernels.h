// Optimised kernels for SUNDIALS' serial N_Vector.
//
// Debian builds SUNDIALS without optimisation, and its serial vector operations dominated the run
// time (92% in `perf`; see DESIGN.md). `gf_vector_install_kernels` replaces the loop operations of a
// serial vector's ops table with the functions below, compiled with -O3. Clones copy the ops table,
// so every vector CVODE clones from it inherits them. Each operation keeps SUNDIALS' documented
// semantics (the SUNDIALS user guide, "Description of the NVECTOR operations"), element by element,
// so aliasing of outputs with inputs is safe. The fused operations (linear combination, scale-add-multi,
// dot-product-multi and the vector-array operations) are enabled, which SUNDIALS' serial vector leaves off.
#ifndef GRADFLOW_VECTOR_KERNELS_H
#define GRADFLOW_VECTOR_KERNELS_H
#include <nvector/nvector_serial.h>
#include "outer_product.h"
#include "elementwise.h"
#include "parallel.h"
#include "matrix_vector.h"

/// Installs the optimised operations into the ops table of the serial vector `v` (and so of its clones),
/// with a clone operation whose data are 64-byte aligned.
void gf_vector_install_kernels(N_Vector v);

/// A new serial vector of `length` with 64-byte-aligned data and the optimised operations installed.
N_Vector gf_vector_new_aligned(sunindextype length, SUNContext context);
/// SUNDIALS' error weights for scalar tolerances, w_i = 1/(rtol·|y_i| + atol), in one pass (two threads for a
/// large vector, `parallel.h`) instead of the integrators' four (|y|, ·rtol, +atol, 1/·), with the same bits.
/// For `ERKStepWFtolerances` / `CVodeWFtolerances`. Returns 0.
int gf_vector_error_weights(N_Vector y, N_Vector w, realtype rtol, realtype atol);
#endif
