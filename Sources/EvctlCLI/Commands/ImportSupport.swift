import Glibc

extension Commands {
  /// The CPU priority (nice value) an import runs at, at least.
  static let importNiceness: Int32 = 10

  /// Lowers this process's CPU priority for a bulk import, so that on a small host an import
  /// never takes the CPU `evctl serve` needs to answer stations; an idle machine still gives
  /// the import every cycle. A process already nicer is left as it is.
  static func runImportAtLowPriority() {
    errno = 0
    let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    guard errno == 0, current < importNiceness else { return }
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, importNiceness)
  }
}
