/// Ends a `--dry-run` before anything is sent to a station; ``CLI`` prints `plan` on stdout,
/// rolls the store back and exits 0.
struct DryRunStop: Error {
  var plan: String
}
