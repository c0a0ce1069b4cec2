import Foundation

/// In-place softmax of each of `rows` rows of length `count` (row stride `stride`), max-subtracted.
public func softmax(_ x: UnsafeMutablePointer<Float>, rows: Int = 1, count: Int, stride: Int? = nil) {
    let ld = stride ?? count
    for r in 0..<rows {
        let row = x + r * ld
        var m = -Float.infinity
        for i in 0..<count { m = max(m, row[i]) }
        guard m > -Float.infinity else { continue }   // all masked: leave as is
        var sum: Float = 0
        for i in 0..<count { let e = expf(row[i] - m); row[i] = e; sum += e }
        let inv = 1 / sum
        for i in 0..<count { row[i] *= inv }
    }
}
