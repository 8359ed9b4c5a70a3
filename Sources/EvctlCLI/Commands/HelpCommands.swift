extension Commands {
  /// Help topics beyond the command pages.
  static let helpTopics: [String: String] = [
    "exit-codes": ExitCode.table.map {
      String($0.code).padding(toLength: 5, withPad: " ", startingAt: 0) + $0.meaning
    }.joined(separator: "\n") + "\n",
    "formatting": """
      -o table   aligned columns with a header (default on a terminal); <none> marks unset values
      -o wide    the table with every column
      -o tsv     tab-separated, the -o wide columns in that order, a header only with --headers
                 (default when piped); \\t \\n \\\\ and control characters escaped
      -o csv     RFC 4180 with a header row, CRLF line ends; opens cleanly in spreadsheets
      -o json    pretty JSON, keys sorted, snake_case; list verbs print an array, show verbs an object

      JSON and TSV are stable: fields are only ever added (at the end), never renamed, removed or
      retyped. Machine formats carry exact values: times in ISO 8601 UTC (reports: with the --tz
      offset), durations in seconds,
      energy_wh as an integer beside an unrounded energy_kwh. Plain tables are for people: times as
      '5m ago' or '2026-12-03 07:00' (in --tz), durations as '1h30m', energy rounded, long names
      shortened to fit $COLUMNS (default 80). On terminals, in tables and TSV, control characters
      in text print as \\x1b; JSON and CSV stay exact. Mutations print 'kind/name verb' on
      stdout; -q silences them, never an error. A command that cannot print a format refuses it.

      Times you type: a filter (--since, --from) counts back, a deadline (--valid-to, --until,
      --expires) forward: 1h, 7d, 1h30m; +2h and -2h say so explicitly; now, today, yesterday,
      tomorrow; 18:00 (the nearest one the option's way); 2026-11-01; 2026-11-01T06:00:00 (in
      --tz) or with a zone (Z, +01:00). Dates that do not exist (2026-02-30, 23:59:60) are refused.

      """,
    "environment": """
      EVCTL_DB          store file (or postgresql:// URL) used when --db is not given
      PGHOST, PGUSER, PGPASSWORD, PGPASSFILE, …
                        fill in what a postgresql:// URL leaves out, as for psql
      EVCTL_TOKEN       operator API token for scripts (see 'evctl operator token create')
      EVCTL_FORCE_TTY   1 renders as on a terminal even when piped
      EVCTL_TZ          time zone for typed and shown times when --tz is not given; default UTC
      COLUMNS           terminal width plain tables fit into; default 80
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
