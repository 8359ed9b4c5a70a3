import EvctlCore

extension Commands {
  static let completion: CommandSpec = CommandSpec(
    "completion", abstract: "Print a shell completion script",
    arguments: [.positional("shell", help: "The shell", choices: ["bash", "zsh", "fish"])],
    examples: [
      .init("Enable completion in the current bash", "source <(evctl completion bash)"),
      .init("In the current zsh (after compinit)", "source <(evctl completion zsh)"),
      .init("In the current fish", "evctl completion fish | source"),
    ]
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
    "__complete", abstract: "Print values for shell completion, one VALUE<TAB>DESCRIPTION per line",
    arguments: [
      .positional("kind", help: "What to list",
                  choices: ["stations", "groups", "users", "operators", "tokens"])
    ],
    hidden: true
  ) { inv in
    guard let store = try? inv.context.openStore() else { return }
    let values: [(String, String)]
    switch inv.required("kind") {
    case "stations": values = (try? store.stations().map { ($0.identity, $0.name) }) ?? []
    case "groups": values = (try? store.groups().map { ($0.path, $0.kind.rawValue) }) ?? []
    case "users":
      values = (try? store.users().map { ($0.email, "\($0.firstName) \($0.lastName)") }) ?? []
    case "operators":
      values = (try? store.operators().map { ($0.email, "\($0.name) (\($0.role.rawValue))") }) ?? []
    default:
      values = (try? store.tokens().map { ($0.idTag, [$0.name, $0.userEmail].compactMap { $0 }.joined(separator: ", ")) }) ?? []
    }
    inv.context.console.writeOut(values.map { "\(completionField($0.0))\t\(completionField($0.1))\n" }.joined())
  }

  /// `text` with tabs, newlines and other control characters as spaces: one field of a line.
  static func completionField(_ text: String) -> String {
    String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
  }
}
