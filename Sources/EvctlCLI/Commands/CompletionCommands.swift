import EvctlCore

extension Commands {
  static let completion: CommandSpec = CommandSpec(
    "completion", abstract: "Print a shell completion script",
    arguments: [.positional("shell", help: "The shell", choices: ["bash", "zsh", "fish"])],
    examples: [.init("Enable completion in the current bash", "source <(evctl completion bash)")]
  ) { inv in
    inv.context.console.writeOut(completionScript(for: inv.required("shell")))
  }

  /// The completion script for `shell`, generated from the command tree.
  public static func completionScript(for shell: String) -> String {
    let model = CompletionModel(root: root)
    switch shell {
    case "zsh": return ShellCompletions.zsh(model)
    case "fish": return ShellCompletions.fish(model)
    default: return ShellCompletions.bash(model)
    }
  }

  /// The README's command table (Markdown), generated from the command tree.
  public static func commandTable() -> String {
    var out = "| command | what it does |\n|---|---|\n"
    for (path, command) in root.walk() where command.action != nil && !command.isHidden && path.count > 1 {
      if path.contains("help") || path.contains("completion") && path.count > 2 { continue }
      out += "| `\(path.joined(separator: " "))` | \(command.abstract.replacingOccurrences(of: "|", with: "\\|")) |\n"
    }
    return out
  }

  /// The man page, generated from the command tree.
  public static func manPage() -> String { ManPage.render(root: root) }

  static let complete: CommandSpec = CommandSpec(
    "__complete", abstract: "Print values for shell completion, one per line",
    arguments: [
      .positional("kind", help: "What to list",
                  choices: ["stations", "groups", "users", "operators", "tokens"])
    ],
    hidden: true
  ) { inv in
    guard let store = try? inv.context.openStore() else { return }
    let values: [String]
    switch inv.required("kind") {
    case "stations": values = (try? store.stations().map(\.identity)) ?? []
    case "groups": values = (try? store.groups().map(\.path)) ?? []
    case "users": values = (try? store.users().map(\.email)) ?? []
    case "operators": values = (try? store.operators().map(\.email)) ?? []
    default: values = (try? store.tokens().map(\.idTag)) ?? []
    }
    inv.context.console.writeOut(values.map { $0 + "\n" }.joined())
  }
}
