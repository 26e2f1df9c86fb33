import COpenBLAS

/// Thin, typed wrappers over the LAPACK routines GradFlow needs (from OpenBLAS). Matrices are passed
/// row-major, as everywhere in GradFlow; each wrapper states how it maps them onto LAPACK's column-major
/// convention. Failures (`info ≠ 0`) throw `GradFlowError.lapack`.
package enum LAPACK {
    /// All eigenvalues of the symmetric n×n matrix `a` (row-major; only its lower triangle in row-major
    /// terms, i.e. LAPACK's upper triangle, is read), in ascending order. `dsyevr`, JOBZ = 'N', RANGE = 'A'.
    /// Cost ≈ (4/3)n³ flops.
    package static func symmetricEigenvalues(_ a: [Double], order n: Int) throws -> [Double] {
        try symmetricEigen(a, order: n, vectors: false).values
    }

    /// All eigenpairs of the symmetric n×n matrix `a` (row-major), eigenvalues ascending.
    /// `vectors[j*n ..< (j+1)*n]` is the unit eigenvector of `values[j]`. `dsyevr`, JOBZ = 'V', RANGE = 'A'.
    /// Cost ≈ 9n³ flops.
    package static func symmetricEigen(_ a: [Double], order n: Int, vectors: Bool = true) throws
        -> (values: [Double], vectors: [Double])
    {
        precondition(a.count == n * n)
        if n == 0 { return ([], []) }
        // Aligned operands: LAPACK calls OpenBLAS, whose rounding depends on alignment (see `AlignedBuffer`).
        let matrix = AlignedBuffer(a)  // symmetric: row-major and column-major coincide
        var nn = Int32(n), lda = Int32(n), ldz = Int32(n)
        var vl = 0.0, vu = 0.0, il: Int32 = 0, iu: Int32 = 0, abstol = 0.0
        var found: Int32 = 0, info: Int32 = 0
        let w = AlignedBuffer(count: n)
        let z = AlignedBuffer(count: vectors ? n * n : 1)
        var isuppz = [Int32](repeating: 0, count: 2 * n)
        var jobz = CChar(UInt8(ascii: vectors ? "V" : "N")), range = CChar(UInt8(ascii: "A")), uplo = CChar(UInt8(ascii: "U"))
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery = 0.0, iworkQuery: Int32 = 0
        dsyevr_(&jobz, &range, &uplo, &nn, matrix.pointer, &lda, &vl, &vu, &il, &iu, &abstol, &found, w.pointer, z.pointer, &ldz,
                &isuppz, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1, 1)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dsyevr", info: Int(info)) }
        lwork = Int32(workQuery)
        liwork = iworkQuery
        let work = AlignedBuffer(count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevr_(&jobz, &range, &uplo, &nn, matrix.pointer, &lda, &vl, &vu, &il, &iu, &abstol, &found, w.pointer, z.pointer, &ldz,
                &isuppz, work.pointer, &lwork, &iwork, &liwork, &info, 1, 1, 1)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dsyevr", info: Int(info)) }
        return (w.array, vectors ? z.array : [])
    }

    /// The minimum-norm least-squares solution `w = X⁺y` of `min ‖y − Xw‖` for the row-major n×d matrix
    /// `x`, and the numerical rank of `X`. `dgelsd` (SVD with divide and conquer); singular values below
    /// `rcond·σ_max` count as zero, with `rcond = max(n, d)·ε` (the threshold numpy's `lstsq` uses).
    /// Cost O(nd·min(n, d)).
    package static func minimumNormLeastSquares(_ x: [Double], rows n: Int, columns d: Int, rhs y: [Double]) throws
        -> (solution: [Double], rank: Int)
    {
        try minimumNormLeastSquares(x, rows: n, columns: d, rhs: y, count: 1)
    }

    /// `X⁺Y` for `q` right-hand sides at once: `y` is n×q row-major, the result q×d row-major (row i is
    /// `X⁺y_i`, the minimum-norm solution for column i of Y), with the numerical rank of X. One `dgelsd`.
    package static func minimumNormLeastSquares(_ x: [Double], rows n: Int, columns d: Int, rhs y: [Double], count q: Int) throws
        -> (solution: [Double], rank: Int)
    {
        precondition(x.count == n * d && y.count == n * q && q >= 1)
        // Column-major copy of X (n×d, lda = n).
        let a = AlignedBuffer(count: n * d)
        for i in 0..<n { for j in 0..<d { a.pointer[j * n + i] = x[i * d + j] } }
        let ldb = max(n, d)
        let b = AlignedBuffer(count: ldb * q)  // column-major, column i = y_i
        for i in 0..<n { for c in 0..<q { b.pointer[c * ldb + i] = y[i * q + c] } }
        var m = Int32(n), nn = Int32(d), nrhs = Int32(q), lda = Int32(n), ldbi = Int32(ldb)
        let s = AlignedBuffer(count: min(n, d))
        var rcond = Double(max(n, d)) * Double.ulpOfOne
        var rank: Int32 = 0, info: Int32 = 0
        var lwork: Int32 = -1, workQuery = 0.0, iworkQuery: Int32 = 0
        dgelsd_(&m, &nn, &nrhs, a.pointer, &lda, b.pointer, &ldbi, s.pointer, &rcond, &rank, &workQuery, &lwork, &iworkQuery, &info)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dgelsd", info: Int(info)) }
        lwork = Int32(workQuery)
        let work = AlignedBuffer(count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: max(Int(iworkQuery), 1))
        dgelsd_(&m, &nn, &nrhs, a.pointer, &lda, b.pointer, &ldbi, s.pointer, &rcond, &rank, work.pointer, &lwork, &iwork, &info)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dgelsd", info: Int(info)) }
        var solution = [Double](repeating: 0, count: q * d)
        for c in 0..<q { for j in 0..<d { solution[c * d + j] = b.pointer[c * ldb + j] } }
        return (solution, Int(rank))
    }

    /// The singular values of the row-major m×n matrix `a` (descending), with the top left singular
    /// vector `u` (length m) and top right singular vector `v` (length n), so that `a v = σ_1 u`.
    /// `dgesdd` on the column-major view `aᵀ` (n×m): `aᵀ = U S Vᵀ` gives `a = V S Uᵀ`, so a's left
    /// singular vectors are the rows of LAPACK's VT and its right ones the columns of LAPACK's U.
    /// Cost O(mn·min(m, n)).
    package static func singularValues(_ a: [Double], rows m: Int, columns n: Int) throws
        -> (values: [Double], u: [Double], v: [Double])
    {
        let svd = try thinSVD(a, rows: m, columns: n)
        let k = svd.values.count
        let u = (0..<m).map { svd.u[$0 * k] }  // first column of U (m×k, row-major)
        let v = Array(svd.vt.prefix(n))  // first row of Vᵀ
        return (svd.values, u, v)
    }

    /// The thin SVD `a = U diag(s) Vᵀ` of the row-major m×n matrix `a`, k = min(m, n): `values` (k,
    /// descending), `u` (m×k, row-major, orthonormal columns) and `vt` (k×n, row-major, orthonormal rows).
    /// `dgesdd`, JOBZ = 'S', on the column-major view `aᵀ = U_L S VT_L`, so `U = VT_Lᵀ` and `Vᵀ = U_Lᵀ`,
    /// which are LAPACK's VT and U arrays read row-major. Cost O(mn·min(m, n)).
    package static func thinSVD(_ a: [Double], rows m: Int, columns n: Int) throws -> (values: [Double], u: [Double], vt: [Double]) {
        precondition(a.count == m * n && m >= 1 && n >= 1)
        let matrix = AlignedBuffer(a)  // column-major n×m, lda = n
        let k = min(m, n)
        var rows = Int32(n), cols = Int32(m), lda = Int32(n), ldu = Int32(n), ldvt = Int32(k)
        let s = AlignedBuffer(count: k), uLapack = AlignedBuffer(count: n * k), vtLapack = AlignedBuffer(count: k * m)
        var jobz = CChar(UInt8(ascii: "S"))
        var lwork: Int32 = -1, info: Int32 = 0, query = 0.0
        var iwork = [Int32](repeating: 0, count: 8 * k)
        dgesdd_(&jobz, &rows, &cols, matrix.pointer, &lda, s.pointer, uLapack.pointer, &ldu, vtLapack.pointer, &ldvt,
                &query, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dgesdd", info: Int(info)) }
        lwork = Int32(query)
        let work = AlignedBuffer(count: Int(lwork))
        dgesdd_(&jobz, &rows, &cols, matrix.pointer, &lda, s.pointer, uLapack.pointer, &ldu, vtLapack.pointer, &ldvt,
                work.pointer, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dgesdd", info: Int(info)) }
        return (s.array, vtLapack.array, uLapack.array)
    }

    /// Eigenvalues (ascending) and eigenvectors of the symmetric tridiagonal matrix with diagonal
    /// `diagonal` and off-diagonal `offDiagonal` (n − 1 entries). `dstev`, JOBZ = 'V'.
    /// `vectors[j*n ..< (j+1)*n]` is the eigenvector of `values[j]`. Cost O(n²) + O(n³) for the vectors.
    package static func tridiagonalEigen(diagonal: [Double], offDiagonal: [Double]) throws
        -> (values: [Double], vectors: [Double])
    {
        let n = diagonal.count
        precondition(n >= 1 && offDiagonal.count >= n - 1)
        var d = diagonal
        var e = Array(offDiagonal.prefix(n - 1)) + [0]
        var z = [Double](repeating: 0, count: n * n)
        var work = [Double](repeating: 0, count: max(1, 2 * n - 2))
        var nn = Int32(n), ldz = Int32(n), info: Int32 = 0
        var jobz = CChar(UInt8(ascii: "V"))
        dstev_(&jobz, &nn, &d, &e, &z, &ldz, &work, &info, 1)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dstev", info: Int(info)) }
        return (d, z)
    }

    /// Eigenvalues `il…iu` (1-based, in ascending order) of the symmetric tridiagonal n×n matrix T with the
    /// given diagonal (n) and off-diagonal (its first n − 1 entries), by bisection: `dstebz`, RANGE = 'I',
    /// ORDER = 'E', ABSTOL = 0 (absolute accuracy ≈ ε‖T‖, as `dsterf`'s and `dstev`'s), with the split-off block of
    /// each (`blocks`) and the blocks' ends (`split`) for `tridiagonalEigenvectors`. Cost O(n) per bisection step:
    /// O(n) for a few eigenvalues, against O(n²) for all of them.
    package static func tridiagonalEigenvalues(diagonal: [Double], offDiagonal: [Double], il: Int, iu: Int) throws
        -> (values: [Double], blocks: [Int32], split: [Int32])
    {
        let n = diagonal.count
        precondition(n >= 1 && offDiagonal.count >= n - 1 && 1 <= il && il <= iu && iu <= n)
        var d = diagonal, e = n > 1 ? Array(offDiagonal.prefix(n - 1)) : [0]
        var range = CChar(UInt8(ascii: "I")), order = CChar(UInt8(ascii: "E"))
        var nn = Int32(n), vl = 0.0, vu = 0.0, lower = Int32(il), upper = Int32(iu), abstol = 0.0
        var m: Int32 = 0, nsplit: Int32 = 0, info: Int32 = 0
        var w = [Double](repeating: 0, count: n), blocks = [Int32](repeating: 0, count: n), split = [Int32](repeating: 0, count: n)
        var work = [Double](repeating: 0, count: 4 * n), iwork = [Int32](repeating: 0, count: 3 * n)
        dstebz_(&range, &order, &nn, &vl, &vu, &lower, &upper, &abstol, &d, &e, &m, &nsplit, &w, &blocks, &split, &work, &iwork, &info, 1, 1)
        guard info == 0, Int(m) == iu - il + 1 else { throw GradFlowError.lapack(routine: "dstebz", info: Int(info == 0 ? -99 : info)) }
        return (Array(w.prefix(Int(m))), Array(blocks.prefix(Int(m))), Array(split.prefix(Int(nsplit))))
    }

    /// Unit eigenvectors of the tridiagonal T for eigenvalues from `tridiagonalEigenvalues` (grouped by block,
    /// ascending within a block), by inverse iteration (`dstein`, O(n) each): column-major, n entries per vector.
    package static func tridiagonalEigenvectors(diagonal: [Double], offDiagonal: [Double], values: [Double], blocks: [Int32],
                                                split: [Int32]) throws -> [Double] {
        let n = diagonal.count, count = values.count
        var d = diagonal, e = Array(offDiagonal.prefix(max(n - 1, 0))) + [0]
        var w = values, iblock = blocks, isplit = split
        var nn = Int32(n), m = Int32(count), ldz = Int32(n), info: Int32 = 0
        var z = [Double](repeating: 0, count: n * count)
        var work = [Double](repeating: 0, count: 5 * n), iwork = [Int32](repeating: 0, count: n), failed = [Int32](repeating: 0, count: count)
        dstein_(&nn, &d, &e, &m, &w, &iblock, &isplit, &z, &ldz, &work, &iwork, &failed, &info)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dstein", info: Int(info)) }
        return z
    }
}

