/// Builds `--help` text and usage lines from the command tree.
public enum Help {
  /// The usage line of the command at `path`.
  public static func usage(_ path: [String]) -> String {
    let command = Commands.resolve(path)
    var parts = [path.joined(separator: " ")]
    if !command.subcommands.isEmpty { parts.append("<command>") }
    for spec in command.arguments {
      switch spec.kind {
      case .flag: parts.append("[--\(spec.name)]")
      case .option:
        let text = "--\(spec.name) <\(spec.valueName)>" + (spec.isRepeating ? " ..." : "")
        parts.append(spec.isRequired ? text : "[\(text)]")
      case .positional:
        let text = "<\(spec.name)>" + (spec.isRepeating ? " ..." : "")
        parts.append(spec.isRequired ? text : "[\(text)]")
      }
    }
    return parts.joined(separator: " ")
  }

  /// The full help page of the command at `path`.
  public static func page(_ path: [String]) -> String {
    let command = Commands.resolve(path)
    var out = "OVERVIEW: \(command.abstract)\n"
    if let discussion = command.discussion { out += "\n" + discussion + "\n" }
    out += "\nUSAGE: \(usage(path))\n"
    let visible = command.subcommands.filter { !$0.isHidden }
    if !visible.isEmpty {
      out += "\nCOMMANDS:\n"
      let width = visible.map { names($0).count }.max() ?? 0
      for sub in visible {
        let label = names(sub)
        out += "  " + label + String(repeating: " ", count: width - label.count + 2) + sub.abstract
          + "\n"
      }
    }
    let positionals = command.arguments.filter { $0.kind == .positional }
    if !positionals.isEmpty {
      out += "\nARGUMENTS:\n"
      out += table(positionals.map { ("<\($0.name)>", describe($0)) })
    }
    let options = command.arguments.filter { $0.kind != .positional }
    let inherited = path.count > 1 ? Commands.root.arguments : []
    if !options.isEmpty {
      out += "\nOPTIONS:\n"
      out += table(options.map { (label($0), describe($0)) })
    }
    if !inherited.isEmpty {
      out += "\nGLOBAL OPTIONS:\n"
      out += table(inherited.map { (label($0), describe($0)) })
    }
    if !command.examples.isEmpty {
      out += "\nEXAMPLES:\n"
      out += command.examples.map { "  # \($0.comment)\n  \($0.command)\n" }.joined(separator: "\n")
    }
    if !visible.isEmpty {
      out += "\nRun '\(path.joined(separator: " ")) <command> --help' for more on a command.\n"
    }
    return out
  }

  static func names(_ command: CommandSpec) -> String {
    ([command.name] + command.aliases).joined(separator: ", ")
  }

  /// The option's label, such as `-o, --output <format>`.
  static func label(_ spec: ArgumentSpec) -> String {
    var text = spec.short.map { "-\($0), " } ?? ""
    text += "--\(spec.name)"
    if spec.kind == .option { text += " <\(spec.valueName)>" }
    return text
  }

  static func describe(_ spec: ArgumentSpec) -> String {
    var text = spec.help
    if !spec.choices.isEmpty { text += " (\(spec.choices.joined(separator: "|")))" }
    if spec.isRepeating, spec.kind == .option { text += "; repeatable" }
    return text
  }

  static func table(_ rows: [(String, String)]) -> String {
    let width = min(rows.map(\.0.count).max() ?? 0, 30)
    return rows.map { left, right in
      if left.count > width { return "  \(left)\n  \(String(repeating: " ", count: width + 2))\(right)\n" }
      return "  " + left + String(repeating: " ", count: width - left.count + 2) + right + "\n"
    }.joined()
  }
}
