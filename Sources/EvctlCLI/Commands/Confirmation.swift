import EvctlCore

extension Invocation {
  /// Asks before a destructive action: on a terminal, shows `what` will happen and asks; `--yes`
  /// (and `--dry-run`, which changes nothing) skip the question; off a terminal without `--yes`
  /// it refuses with a usage error.
  func confirmDestructive(_ what: String) throws {
    if arguments.flag("yes") || context.isDryRun { return }
    guard let answer = context.console.ask("This will \(what).\nContinue? [y/N] ") else {
      throw UsageError(
        message: "refusing to \(what) without confirmation: no terminal to ask on; pass --yes to go ahead, or --dry-run to see what it would do",
        commandPath: arguments.path)
    }
    guard ["y", "yes"].contains(answer.trimmingSpaces.lowercased()) else {
      context.console.diagnose("error: aborted; nothing was changed")
      throw ExitCode.failure
    }
  }
}
