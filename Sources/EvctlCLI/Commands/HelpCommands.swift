extension Commands {
  /// Help topics beyond the command pages.
  static let helpTopics: [String: String] = [
    "exit-codes": ExitCode.table.map {
      String($0.code).padding(toLength: 5, withPad: " ", startingAt: 0) + $0.meaning
    }.joined(separator: "\n") + "\n",
    "formatting": """
      -o table   aligned columns with a header (default on a terminal); <none> marks unset values
      -o wide    the table with every column
      -o tsv     tab-separated, every column, no header (default when piped); \\t \\n \\\\ escaped
      -o csv     RFC 4180 with a header row, CRLF line ends; opens cleanly in spreadsheets
      -o json    pretty JSON, keys sorted, snake_case; list verbs print an array, show verbs an object

      JSON and TSV are stable: fields are only ever added, never renamed, removed or retyped.
      Times are ISO 8601 in UTC. Mutations print 'kind/name verb' on stdout; -q silences them.

      """,
    "environment": """
      EVCTL_DB          store file used when --db is not given
      EVCTL_TOKEN       operator API token for scripts (see 'evctl operator token create')
      EVCTL_FORCE_TTY   1 renders as on a terminal even when piped
      NO_COLOR          set to turn colour off
      XDG_DATA_HOME     the default store is $XDG_DATA_HOME/evctl/evctl.db
      XDG_CONFIG_HOME   the login session is kept in $XDG_CONFIG_HOME/evctl/session.json

      """,
  ]

  static let helpCommand: CommandSpec = CommandSpec(
    "help", abstract: "Show help for a command or a topic (exit-codes, formatting, environment)",
    arguments: [.positional("topic", help: "A command path or a topic", required: false, repeating: true)]
  ) { inv in
    let words = inv.arguments.positionalValues("topic")
    if words.count == 1, let topic = helpTopics[words[0]] {
      inv.context.console.writeOut(topic)
      return
    }
    var path = ["evctl"]
    var command = root
    for word in words {
      guard let next = command.subcommand(word) else {
        throw UsageError(
          message: "no help for '\(words.joined(separator: " "))'; topics: \(helpTopics.keys.sorted().joined(separator: ", "))",
          commandPath: ["evctl", "help"])
      }
      command = next
      path.append(next.name)
    }
    inv.context.console.writeOut(Help.page(path))
  }
}
