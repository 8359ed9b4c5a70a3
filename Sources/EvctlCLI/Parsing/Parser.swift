/// The command line was not understood.
///
/// ``CLI`` prints it together with the command's usage line.
public struct UsageError: Error, Equatable {
  public var message: String
  public var commandPath: [String]
}

/// The arguments of one invocation, after parsing.
public struct ParsedArguments: Sendable {
  /// The command path, such as `["evctl", "station", "list"]`.
  public var path: [String] = []
  var flags: Set<String> = []
  var options: [String: [String]] = [:]
  var positionals: [String: [String]] = [:]

  /// Whether a flag was given.
  public func flag(_ name: String) -> Bool { flags.contains(name) }
  /// The last value given for an option.
  public func option(_ name: String) -> String? { options[name]?.last }
  /// Every value given for a repeatable option.
  public func values(_ name: String) -> [String] { options[name] ?? [] }
  /// The value of a positional argument.
  public func positional(_ name: String) -> String? { positionals[name]?.first }
  /// Every value of a repeating positional argument.
  public func positionalValues(_ name: String) -> [String] { positionals[name] ?? [] }
}

/// Walks the command tree over argv.
///
/// Options of parent commands are inherited, so `evctl --db x station list` works; parsing stops
/// at `--`.
public enum Parser {
  /// Parses `argv` (without the program name) against `root`.
  public static func parse(_ argv: [String], root: CommandSpec) throws(UsageError) -> (
    command: CommandSpec, arguments: ParsedArguments
  ) {
    var chain = [root]
    var parsed = ParsedArguments()
    var words: [String] = []
    var index = 0
    var onlyPositionals = false
    func path() -> [String] { chain.map(\.name) }
    func lookup(_ predicate: (ArgumentSpec) -> Bool) -> ArgumentSpec? {
      for command in chain.reversed() {
        if let spec = command.arguments.first(where: { $0.kind != .positional && predicate($0) }) {
          return spec
        }
      }
      return nil
    }
    while index < argv.count {
      let token = argv[index]
      index += 1
      if onlyPositionals || token == "-" || !token.hasPrefix("-") {
        if words.isEmpty, !onlyPositionals, let sub = chain.last!.subcommand(token) {
          chain.append(sub)
          continue
        }
        if words.isEmpty, !chain.last!.subcommands.isEmpty, chain.last!.action == nil {
          let names = chain.last!.subcommands.filter { !$0.isHidden }.flatMap { [$0.name] + $0.aliases }
          throw UsageError(
            message: "unknown command '\(token)' for '\(path().joined(separator: " "))'"
              + Suggestion.didYouMean(token, among: names),
            commandPath: path())
        }
        words.append(token)
        continue
      }
      if token == "--" {
        onlyPositionals = true
        continue
      }
      var name: String
      var inlineValue: String?
      let spec: ArgumentSpec?
      if token.hasPrefix("--") {
        name = String(token.dropFirst(2))
        if let equals = name.firstIndex(of: "=") {
          inlineValue = String(name[name.index(after: equals)...])
          name = String(name[..<equals])
        }
        let wanted = name
        spec = lookup { $0.name == wanted }
        guard spec != nil else {
          let names = chain.flatMap(\.arguments).filter { $0.kind != .positional }.map(\.name)
          throw UsageError(
            message: "unknown option '--\(wanted)'"
              + Suggestion.didYouMean(wanted, among: names, prefix: "--"),
            commandPath: path())
        }
      } else {
        // Short options bundle: `-qo json`, `-qojson`; flags first, then at most one option.
        var letters = Array(token.dropFirst())[...]
        var found: ArgumentSpec?
        var first = true
        while let letter = letters.first {
          letters = letters.dropFirst()
          guard let next = lookup({ $0.short == letter }) else {
            throw UsageError(
              message: first ? "unknown option '\(token)'" : "unknown option '-\(letter)' in '\(token)'",
              commandPath: path())
          }
          first = false
          if next.kind == .flag {
            if letters.first == "=" {
              throw UsageError(message: "option '--\(next.name)' takes no value", commandPath: path())
            }
            parsed.flags.insert(next.name)
            continue
          }
          found = next
          if !letters.isEmpty { inlineValue = String(letters) }
          break
        }
        guard let found else { continue }
        name = found.name
        spec = found
      }
      guard let spec else {
        throw UsageError(message: "unknown option '\(token)'", commandPath: path())
      }
      if spec.kind == .flag {
        if inlineValue != nil {
          throw UsageError(message: "option '--\(spec.name)' takes no value", commandPath: path())
        }
        parsed.flags.insert(spec.name)
        continue
      }
      let value: String
      if let inlineValue {
        value = inlineValue.hasPrefix("=") ? String(inlineValue.dropFirst()) : inlineValue
      } else {
        guard index < argv.count else {
          throw UsageError(
            message: "option '--\(spec.name)' needs a value <\(spec.valueName)>",
            commandPath: path())
        }
        value = argv[index]
        index += 1
      }
      if !spec.choices.isEmpty, !spec.choices.contains(value) {
        throw UsageError(
          message:
            "invalid value '\(value)' for '--\(spec.name)'; expected one of: \(spec.choices.joined(separator: ", "))",
          commandPath: path())
      }
      if !spec.isRepeating, parsed.options[spec.name] != nil {
        throw UsageError(
          message: "option '--\(spec.name)' given more than once; it takes one value",
          commandPath: path())
      }
      parsed.options[spec.name, default: []].append(value)
    }
    let command = chain.last!
    parsed.path = path()
    if parsed.flags.contains("help") || parsed.flags.contains("version") {
      return (command, parsed)
    }
    if command.action == nil {
      throw UsageError(
        message: "missing command for '\(path().joined(separator: " "))'", commandPath: path())
    }
    let positionals = command.arguments.filter { $0.kind == .positional }
    var remaining = words[...]
    // Required positionals get their words first; optional ones only take what is left over.
    var optionalBudget = words.count - positionals.filter { $0.isRequired && !$0.isRepeating }.count
    for spec in positionals {
      if !spec.isRequired, !spec.isRepeating {
        guard optionalBudget > 0 else { continue }
        optionalBudget -= 1
      }
      if spec.isRepeating {
        parsed.positionals[spec.name] = Array(remaining)
        if spec.isRequired, remaining.isEmpty {
          throw UsageError(message: "missing argument <\(spec.name)>", commandPath: path())
        }
        remaining = []
      } else if let value = remaining.first {
        if !spec.choices.isEmpty, !spec.choices.contains(value) {
          throw UsageError(
            message:
              "invalid value '\(value)' for <\(spec.name)>; expected one of: \(spec.choices.joined(separator: ", "))",
            commandPath: path())
        }
        parsed.positionals[spec.name] = [value]
        remaining = remaining.dropFirst()
      } else if spec.isRequired {
        throw UsageError(message: "missing argument <\(spec.name)>", commandPath: path())
      }
    }
    if let extra = remaining.first {
      throw UsageError(message: "unexpected argument '\(extra)'", commandPath: path())
    }
    for spec in chain.flatMap(\.arguments) where spec.kind == .option && spec.isRequired {
      if parsed.options[spec.name] == nil {
        throw UsageError(
          message: "missing required option '--\(spec.name) <\(spec.valueName)>'",
          commandPath: path())
      }
    }
    return (command, parsed)
  }
}
