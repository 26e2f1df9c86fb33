// Serial HDF5 (Debian libhdf5-dev, found with pkg-config "hdf5-serial"). The identifiers that HDF5
// defines as macros over global variables do not import into Swift: these prefixed shims return them.
#ifndef GRADFLOW_CHDF5_SHIM_H
#define GRADFLOW_CHDF5_SHIM_H
#include <hdf5/serial/hdf5.h>
#include <hdf5/serial/H5DSpublic.h>  /* dimension scales (libhdf5_hl): netCDF-4 style named dimensions */

static inline hid_t gf_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t gf_h5s_all(void) { return H5S_ALL; }
static inline hsize_t gf_h5s_unlimited(void) { return H5S_UNLIMITED; }
static inline hid_t gf_h5e_default(void) { return H5E_DEFAULT; }
static inline unsigned gf_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned gf_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned gf_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned gf_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline hid_t gf_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t gf_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t gf_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t gf_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t gf_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t gf_h5t_native_int(void) { return H5T_NATIVE_INT; }
static inline hid_t gf_h5t_std_ref_obj(void) { return H5T_STD_REF_OBJ; }
static inline size_t gf_h5t_variable(void) { return H5T_VARIABLE; }
/// Turns off HDF5's automatic printing of error stacks; GradFlow reports errors itself.
static inline void gf_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
/// HDF5 library version as "major.minor.release".
static inline void gf_h5_version(unsigned *maj, unsigned *min, unsigned *rel) { H5get_libversion(maj, min, rel); }
#endif
