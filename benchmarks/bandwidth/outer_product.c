/* OpenBLAS on the blocks of case E (10 layers of 1000×1000, one thread): dgemv in both orientations, the
   rank-one block written by dgemm with k = 1 (what DeepLinearRisk used before), by a plain loop and by dger.
   Six repetitions; take the fastest (this VM's memory timings are noisy). It motivated the streaming
   outer-product loops of Sources/CVectorKernels/outer_product.c.
   Build and run:  gcc -O3 -march=native -I/usr/include/x86_64-linux-gnu -o /tmp/outer outer_product.c -lopenblas && /tmp/outer */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(){ int m=1000, L=10; long P=(long)m*m*L;
 double *W; posix_memalign((void**)&W,64,P*8); for(long i=0;i<P;i++)W[i]=1e-3*((i*7)%13-6);
 double *G; posix_memalign((void**)&G,64,P*8);
 double x[1000],y[1000]; for(int i=0;i<m;i++){x[i]=1;y[i]=0.5;}
 openblas_set_num_threads(1);
 for(int rep=0;rep<6;rep++){
 double t0=now(); for(int k=0;k<L;k++) cblas_dgemv(CblasRowMajor,CblasTrans,m,m,1,W+(long)k*m*m,m,x,1,0,y,1); double tT=now()-t0;
 t0=now(); for(int k=0;k<L;k++) cblas_dgemv(CblasRowMajor,CblasNoTrans,m,m,1,W+(long)k*m*m,m,x,1,0,y,1); double tN=now()-t0;
 t0=now(); for(int k=0;k<L;k++) cblas_dgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,m,m,1,-1,x,1,y,m,0,G+(long)k*m*m,m); double tM=now()-t0;
 t0=now(); for(int k=0;k<L;k++){ double*g=G+(long)k*m*m; for(int i=0;i<m;i++){double a=-x[i]; for(int j=0;j<m;j++) g[i*m+j]=a*y[j];}} double tO=now()-t0;
 t0=now(); for(int k=0;k<L;k++){ cblas_dger(CblasRowMajor,m,m,-1,x,1,y,1,G+(long)k*m*m,m);} double tR=now()-t0;
 printf("gemv T %.1f ms (%.1f GB/s), gemv N %.1f ms (%.1f GB/s), dgemm k=1 write %.1f ms (%.1f GB/s), loop outer %.1f ms (%.1f GB/s), dger %.1f ms\n",
  tT*1e3, P*8/tT/1e9, tN*1e3, P*8/tN/1e9, tM*1e3, P*8/tM/1e9, tO*1e3, P*8/tO/1e9, tR*1e3);}
 return 0;}
