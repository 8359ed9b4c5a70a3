/// What a shell needs to complete evctl, read from the command tree.
struct CompletionModel {
  /// A word the shell may offer, with the one-line description zsh and fish show beside it.
  struct Candidate: Equatable {
    let word: String
    let description: String
  }

  struct Node {
    /// The canonical path, such as `evctl station list`.
    let path: String
    /// Subcommand words (names and aliases) mapped to canonical names.
    let subcommands: [(word: String, name: String)]
    /// Subcommand names and every option word, long and short (inherited globals included),
    /// with their descriptions: what Tab offers at this command.
    let candidates: [Candidate]
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
      let visible = command.subcommands.filter { !$0.isHidden }
      var candidates = visible.map { Candidate(word: $0.name, description: $0.abstract) }
      var valued: [(String, ValueSource)] = []
      for spec in options {
        let forms = ["--\(spec.name)"] + (spec.short.map { ["-\($0)"] } ?? [])
        candidates += forms.map { Candidate(word: $0, description: spec.help) }
        if spec.kind == .option {
          for form in forms { valued.append((form, CompletionModel.source(spec))) }
        }
      }
      let subs = visible.flatMap { sub in ([sub.name] + sub.aliases).map { ($0, sub.name) } }
      let firstPositional = command.arguments.first { $0.kind == .positional }
      nodes.append(
        Node(
          path: path.joined(separator: " "), subcommands: subs, candidates: candidates,
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
