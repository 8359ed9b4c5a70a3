/// Where the value of an argument comes from when a shell completes it.
public enum CompletionSource: String, Sendable {
  case none, file, stations, groups, users, operators, tokens
}

/// One declared argument of a command: a flag, an option with a value, or a positional.
public struct ArgumentSpec: Sendable {
  /// What kind of argument this is.
  public enum Kind: Sendable { case flag, option, positional }

  public var kind: Kind
  /// The long name without dashes (`output`), or the positional's placeholder (`identity`).
  public var name: String
  public var short: Character?
  public var help: String
  /// The placeholder of an option's value, such as `format`.
  public var valueName: String
  /// The accepted values, when they are a closed set.
  public var choices: [String]
  public var isRequired: Bool
  public var isRepeating: Bool
  public var completion: CompletionSource

  /// A boolean switch such as `--dry-run`.
  public static func flag(_ name: String, short: Character? = nil, help: String) -> ArgumentSpec {
    ArgumentSpec(
      kind: .flag, name: name, short: short, help: help, valueName: "", choices: [],
      isRequired: false, isRepeating: false, completion: .none)
  }

  /// An option that takes a value, such as `--group <group>`.
  public static func option(
    _ name: String, short: Character? = nil, value: String, help: String, choices: [String] = [],
    required: Bool = false, repeating: Bool = false, completion: CompletionSource = .none
  ) -> ArgumentSpec {
    ArgumentSpec(
      kind: .option, name: name, short: short, help: help, valueName: value, choices: choices,
      isRequired: required, isRepeating: repeating, completion: completion)
  }

  /// A positional argument, such as `<identity>`.
  public static func positional(
    _ name: String, help: String, required: Bool = true, repeating: Bool = false,
    choices: [String] = [], completion: CompletionSource = .none
  ) -> ArgumentSpec {
    ArgumentSpec(
      kind: .positional, name: name, short: nil, help: help, valueName: name, choices: choices,
      isRequired: required, isRepeating: repeating, completion: completion)
  }
}

/// An example in help and the man page: a comment line and a command line.
public struct Example: Sendable {
  public var comment: String
  public var command: String

  /// Creates an example.
  public init(_ comment: String, _ command: String) {
    self.comment = comment
    self.command = command
  }
}

/// What a command's action receives: its parsed arguments and the shared context.
public struct Invocation {
  public let arguments: ParsedArguments
  public let context: Context
}

/// One node of the command tree; the tree drives parsing, help, completions and the man page.
public struct CommandSpec: Sendable {
  public var name: String
  public var aliases: [String]
  /// One imperative line, no final period.
  public var abstract: String
  public var discussion: String?
  public var arguments: [ArgumentSpec]
  public var subcommands: [CommandSpec]
  public var examples: [Example]
  public var isHidden: Bool
  public var action: (@Sendable (Invocation) throws -> Void)?

  /// Creates a command.
  public init(
    _ name: String, aliases: [String] = [], abstract: String, discussion: String? = nil,
    arguments: [ArgumentSpec] = [], subcommands: [CommandSpec] = [], examples: [Example] = [],
    hidden: Bool = false, action: (@Sendable (Invocation) throws -> Void)? = nil
  ) {
    self.name = name
    self.aliases = aliases
    self.abstract = abstract
    self.discussion = discussion
    self.arguments = arguments
    self.subcommands = subcommands
    self.examples = examples
    self.isHidden = hidden
    self.action = action
  }

  /// The subcommand called `word`, by name or alias.
  public func subcommand(_ word: String) -> CommandSpec? {
    subcommands.first { $0.name == word || $0.aliases.contains(word) }
  }

  /// Every command below this one with its path, depth first, this one included.
  public func walk(path: [String] = []) -> [(path: [String], command: CommandSpec)] {
    let here = path + [name]
    return [(here, self)] + subcommands.flatMap { $0.walk(path: here) }
  }
}
