/// "Did you mean" for mistyped commands and options.
enum Suggestion {
  /// `"; did you mean 'station'?"` when one candidate is close to `word`, else `""`.
  static func didYouMean(_ word: String, among candidates: [String], prefix: String = "") -> String {
    guard let best = nearest(word, among: candidates) else { return "" }
    return "; did you mean '\(prefix)\(best)'?"
  }

  /// The candidate nearest to `word`, if it is close enough to be a typo: at most a third of the
  /// word's letters (and at least one) edited, or `word` is a prefix of exactly one candidate.
  static func nearest(_ word: String, among candidates: [String]) -> String? {
    let lowered = word.lowercased()
    let limit = max(1, min(2, lowered.count / 3))
    var best: (String, Int)?
    for candidate in Set(candidates).sorted() {
      let distance = editDistance(lowered, candidate.lowercased())
      if distance <= limit, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
    }
    if let best { return best.0 }
    let prefixed = Set(candidates.filter { lowered.count >= 3 && $0.lowercased().hasPrefix(lowered) })
    return prefixed.count == 1 ? prefixed.first : nil
  }

  /// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
  /// neighbouring letters each cost one.
  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        }
      }
    }
    return d[a.count][b.count]
  }
}
