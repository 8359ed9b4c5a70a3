import Glibc

extension Commands {
  /// The CPU priority (nice value) an import runs at, at least.
  static let importNiceness: Int32 = 10
  /// Linux's `SCHED_BATCH` (sched.h defines it only under _GNU_SOURCE).
  static let schedBatch: Int32 = 3

  /// Lowers this process's CPU priority for a bulk import, so that on a small host an import
  /// never takes the CPU `evctl serve` needs to answer stations.
  ///
  /// The import becomes a batch task (`SCHED_BATCH`: a waking `serve` preempts it, it never
  /// preempts `serve`) at nice 10. Not lower: an import holds the write lock for a chunk at a
  /// time, and a task starved of CPU while it holds the lock would hold up `serve` instead. An
  /// idle machine still gives the import every cycle; a process already nicer is left as it is.
  static func runImportAtLowPriority() {
    var parameters = sched_param()
    parameters.sched_priority = 0
    _ = sched_setscheduler(0, schedBatch, &parameters)
    errno = 0
    let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    guard errno == 0, current < importNiceness else { return }
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, importNiceness)
  }
}
