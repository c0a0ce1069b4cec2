// The Fréchet distance between two Gaussians fitted to feature sets: FID when the features are an image
// model's (pytorch-fid uses Inception; issue 5 uses CLIP image embeddings, as the paper's Table 1 reports FID).
import Foundation

public enum FrechetDistance {
    /// |μ1 − μ2|² + tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½), with covariances over n − 1 like numpy's `np.cov`.
    ///
    /// tr((Σ1 Σ2)^½) is computed as Σ √λ over the eigenvalues of the symmetric Σ1^½ Σ2 Σ1^½ (same spectrum
    /// as Σ1 Σ2), which stays real and exact when the covariances are singular (fewer samples than
    /// dimensions), where a general matrix square root picks up imaginary noise.
    public static func distance(_ a: [[Float]], _ b: [[Float]]) throws -> Double {
        guard a.count >= 2, b.count >= 2 else {
            throw EvaluationError.badInput("a Fréchet distance needs at least 2 feature vectors per set, got \(a.count) and \(b.count)")
        }
        let d = a[0].count
        guard d > 0, (a + b).allSatisfy({ $0.count == d }) else {
            throw EvaluationError.badInput("feature vectors must all have the same, non-zero length")
        }
        let (mu1, s1) = meanAndCovariance(a, d), (mu2, s2) = meanAndCovariance(b, d)
        var meanTerm = 0.0
        for i in 0..<d { meanTerm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) }
        let root1 = symmetricSquareRoot(s1, d)
        let m = multiply(multiply(root1, s2, d), root1, d)
        let traceRoot = symmetricEigenvalues(m, d).reduce(0) { $0 + max($1, 0).squareRoot() }
        var trace = 0.0
        for i in 0..<d { trace += s1[i * d + i] + s2[i * d + i] }
        return meanTerm + trace - 2 * traceRoot
    }

    static func meanAndCovariance(_ x: [[Float]], _ d: Int) -> ([Double], [Double]) {
        let n = Double(x.count)
        var mean = [Double](repeating: 0, count: d)
        for row in x { for i in 0..<d { mean[i] += Double(row[i]) / n } }
        var cov = [Double](repeating: 0, count: d * d)
        for row in x {
            for i in 0..<d {
                let di = Double(row[i]) - mean[i]
                for j in i..<d { cov[i * d + j] += di * (Double(row[j]) - mean[j]) }
            }
        }
        for i in 0..<d {
            for j in i..<d {
                cov[i * d + j] /= n - 1
                cov[j * d + i] = cov[i * d + j]
            }
        }
        return (mean, cov)
    }

    static func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for k in 0..<d where a[i * d + k] != 0 { for j in 0..<d { c[i * d + j] += a[i * d + k] * b[k * d + j] } } }
        return c
    }

    /// V diag(√max(λ, 0)) Vᵀ of a symmetric positive semi-definite matrix.
    static func symmetricSquareRoot(_ s: [Double], _ d: Int) -> [Double] {
        let (values, vectors) = jacobiEigen(s, d)
        var out = [Double](repeating: 0, count: d * d)
        for k in 0..<d {
            let r = max(values[k], 0).squareRoot()
            for i in 0..<d { for j in 0..<d { out[i * d + j] += vectors[i * d + k] * r * vectors[j * d + k] } }
        }
        return out
    }

    static func symmetricEigenvalues(_ s: [Double], _ d: Int) -> [Double] { jacobiEigen(s, d).values }

    /// Cyclic Jacobi rotations: slow (O(d³) a sweep) but simple and accurate to rounding for the
    /// feature sizes used here (64 for easel-mini's CLIP, 768 for ViT-L/14 takes seconds).
    /// Returns eigenvalues and the eigenvectors as the columns of a row-major matrix.
    static func jacobiEigen(_ s: [Double], _ d: Int) -> (values: [Double], vectors: [Double]) {
        var a = s
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        let scale = max(a.reduce(0) { max($0, abs($1)) }, .leastNormalMagnitude)
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<d { for q in (p + 1)..<d { off += a[p * d + q] * a[p * d + q] } }
            if off.squareRoot() <= 1e-15 * scale * Double(d) { break }
            for p in 0..<d {
                for q in (p + 1)..<d where abs(a[p * d + q]) > 1e-300 {
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * a[p * d + q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), sn = t * c
                    for k in 0..<d {   // columns p, q
                        let akp = a[k * d + p], akq = a[k * d + q]
                        a[k * d + p] = c * akp - sn * akq
                        a[k * d + q] = sn * akp + c * akq
                    }
                    for k in 0..<d {   // rows p, q
                        let apk = a[p * d + k], aqk = a[q * d + k]
                        a[p * d + k] = c * apk - sn * aqk
                        a[q * d + k] = sn * apk + c * aqk
                    }
                    for k in 0..<d {
                        let vkp = v[k * d + p], vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - sn * vkq
                        v[k * d + q] = sn * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<d).map { a[$0 * d + $0] }, v)
    }
}
