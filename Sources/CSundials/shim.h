// SUNDIALS CVODE and ARKODE's ERKStep (Debian libsundials-dev 6.4). libsundials_cvode already contains the
// serial N_Vector, SPGMR, the dense matrix and solver, and the fixed-point nonlinear solver.
#ifndef GRADFLOW_CSUNDIALS_SHIM_H
#define GRADFLOW_CSUNDIALS_SHIM_H
#include <sundials/sundials_config.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_types.h>
#include <cvode/cvode.h>
#include <cvode/cvode_ls.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>
#include <arkode/arkode_erkstep.h>

/// The SUNDIALS version string the headers describe ("6.4.1").
static inline const char *gf_sundials_version(void) { return SUNDIALS_VERSION; }
#endif
