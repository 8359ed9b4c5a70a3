import EvctlCore
import Glibc

extension Commands {
  /// `status --watch`: the snapshot again and again, for logs, scripts and terminals without
  /// a full-screen view (`evctl top` is the live view).
  static let statusWatchArguments: [ArgumentSpec] = [
    .flag("watch", short: "w",
          help: "Print a fresh snapshot every --interval until stopped (one JSON object per line with -o json)"),
    .option("interval", value: "duration", help: "With --watch, the time between snapshots; default 2s, at least 1s"),
    .option("count", value: "count", help: "With --watch, stop after this many snapshots"),
  ]

  /// Prints one snapshot, or with `--watch` one every `--interval` (`--count` of them).
  static func watchStatus(_ inv: Invocation) throws {
    guard inv.arguments.flag("watch") else {
      for name in ["interval", "count"] where inv.arguments.option(name) != nil {
        throw UsageError(message: "'--\(name)' needs '--watch'", commandPath: inv.arguments.path)
      }
      try printStatus(inv)
      return
    }
    let interval = try inv.duration("interval") ?? 2
    guard interval >= 1 else {
      throw UsageError(message: "invalid duration for '--interval': at least 1s", commandPath: inv.arguments.path)
    }
    let count = try inv.int("count")
    if let count, count < 1 {
      throw UsageError(message: "invalid value '\(count)' for '--count': expected a positive number", commandPath: inv.arguments.path)
    }
    let console = inv.context.console
    let json = inv.context.renderer().format == .json
    var printed = 0
    while count.map({ printed < $0 }) ?? true {
      if printed > 0 {
        var left = interval * 1000
        while left > 0 {
          usleep(UInt32(min(left, 500) * 1000))
          left -= 500
        }
      }
      if !json {
        // On a terminal each snapshot replaces the last, as watch(1) does; in a log they follow.
        console.writeOut(console.isTTY ? "\u{1B}[H\u{1B}[2J" : (printed > 0 ? "\n" : ""))
        console.writeOut("AT        \(Timestamp.now().iso8601)\n")
      }
      try printStatus(inv, compact: json)
      if console.outputFailed { throw CLI.OutputClosed() }
      printed += 1
    }
  }
}
