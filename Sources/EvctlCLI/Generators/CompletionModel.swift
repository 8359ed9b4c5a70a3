/// What a shell needs to complete evctl, read from the command tree.
struct CompletionModel {
  struct Node {
    /// The canonical path, such as `evctl station list`.
    let path: String
    /// Subcommand words (names and aliases) mapped to canonical names.
    let subcommands: [(word: String, name: String)]
    /// Every option word, long and short, including inherited globals.
    let options: [String]
    /// Option words that take a value, with what completes the value.
    let valueOptions: [(word: String, values: ValueSource)]
    /// What completes the first positional argument.
    let positional: ValueSource
  }

  /// Where candidate values come from.
  enum ValueSource: Equatable {
    case none
    case words([String])
    case dynamic(String)
    case files
  }

  let nodes: [Node]

  init(root: CommandSpec) {
    var nodes: [Node] = []
    let globals = root.arguments
    for (path, command) in root.walk() where !command.isHidden {
      let specs = path.count == 1 ? globals : command.arguments + globals
      let options = specs.filter { $0.kind != .positional }
      var words: [String] = []
      var valued: [(String, ValueSource)] = []
      for spec in options {
        let forms = ["--\(spec.name)"] + (spec.short.map { ["-\($0)"] } ?? [])
        words += forms
        if spec.kind == .option {
          for form in forms { valued.append((form, CompletionModel.source(spec))) }
        }
      }
      let subs = command.subcommands.filter { !$0.isHidden }.flatMap { sub in
        ([sub.name] + sub.aliases).map { ($0, sub.name) }
      }
      let firstPositional = command.arguments.first { $0.kind == .positional }
      nodes.append(
        Node(
          path: path.joined(separator: " "), subcommands: subs, options: words,
          valueOptions: valued,
          positional: firstPositional.map(CompletionModel.source) ?? .none))
    }
    self.nodes = nodes
  }

  static func source(_ spec: ArgumentSpec) -> ValueSource {
    if !spec.choices.isEmpty { return .words(spec.choices) }
    switch spec.completion {
    case .none: return .none
    case .file: return .files
    default: return .dynamic(spec.completion.rawValue)
    }
  }
}
