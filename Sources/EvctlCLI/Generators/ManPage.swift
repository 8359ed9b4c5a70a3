import EvctlCore

/// Writes `Man/evctl.1` in mdoc from the command tree.
enum ManPage {
  static func render(root: CommandSpec, date: String = "November 21, 2026") -> String {
    var out = """
      .Dd \(date)
      .Dt EVCTL 1
      .Os evctl \(Commands.version)
      .Sh NAME
      .Nm evctl
      .Nd \(escape(root.abstract.prefix(1).lowercased() + root.abstract.dropFirst()))
      .Sh SYNOPSIS
      .Nm
      .Op Ar global-options
      .Ar noun verb
      .Op Ar arguments ...
      .Sh DESCRIPTION

      """
    out += (root.discussion ?? "").split(separator: "\n").map { escapeLine(String($0)) }
      .joined(separator: "\n") + "\n"
    out += ".Sh COMMANDS\n.Bl -tag -width Ds\n"
    for (path, command) in root.walk().dropFirst() where command.action != nil && !command.isHidden {
      if path.dropFirst().contains(where: { word in word.hasPrefix("__") }) { continue }
      out += ".It Nm Cm \(path.dropFirst().joined(separator: " "))"
      for spec in command.arguments {
        switch spec.kind {
        case .positional:
          // Oo … Oc close each optional part, so brackets never nest (Op runs to the line's end).
          let text = "Ar \(spec.name)" + (spec.isRepeating ? " ..." : "")
          out += spec.isRequired ? " \(text)" : " Oo \(text) Oc"
        case .option:
          let text = "Fl -\(spec.name) Ar \(spec.valueName)" + (spec.isRepeating ? " ..." : "")
          out += spec.isRequired ? " \(text)" : " Oo \(text) Oc"
        case .flag:
          out += " Oo Fl -\(spec.name) Oc"
        }
      }
      out += "\n\(escapeLine(command.abstract)).\n"
      if let discussion = command.discussion {
        out += discussion.split(separator: "\n").map { escapeLine(String($0)) }
          .joined(separator: "\n") + "\n"
      }
      let described = command.arguments
      if !described.isEmpty {
        out += ".Bl -tag -width Ds -compact\n"
        for spec in described {
          switch spec.kind {
          case .positional: out += ".It Ar \(spec.name)\n"
          case .option: out += ".It Fl -\(spec.name) Ar \(spec.valueName)\n"
          case .flag: out += ".It Fl -\(spec.name)\n"
          }
          var help = spec.help
          if !spec.choices.isEmpty { help += " (\(spec.choices.joined(separator: ", ")))" }
          out += escapeLine(help) + ".\n"
        }
        out += ".El\n"
      }
    }
    out += ".El\n.Sh OPTIONS\nThese options are accepted by every command.\n.Bl -tag -width Ds\n"
    for spec in root.arguments {
      let short = spec.short.map { "Fl \($0) , " } ?? ""
      out += ".It \(short)Fl -\(spec.name)" + (spec.kind == .option ? " Ar \(spec.valueName)" : "") + "\n"
      var help = spec.help
      if !spec.choices.isEmpty { help += " (\(spec.choices.joined(separator: ", ")))" }
      out += escapeLine(help) + ".\n"
    }
    out += ".El\n.Sh ENVIRONMENT\n.Bl -tag -width Ds\n"
    for line in (Commands.helpTopics["environment"] ?? "").split(separator: "\n") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2 else { continue }
      out += ".It Ev \(parts[0])\n\(escapeLine(String(parts[1]).trimmingSpaces))\n"
    }
    out += """
      .El
      .Sh FILES
      .Bl -tag -width Ds
      .It Pa $XDG_DATA_HOME/evctl/evctl.db
      The store: one SQLite file in WAL mode, shared by the commands and
      .Nm Cm serve .
      .It Pa $XDG_CONFIG_HOME/evctl/session.json
      The login session, mode 0600.
      .El
      .Sh EXIT STATUS
      .Bl -tag -width Ds -compact

      """
    for entry in ExitCode.table { out += ".It \(entry.code)\n\(escapeLine(entry.meaning)).\n" }
    out += ".El\n.Sh EXAMPLES\n"
    for (_, command) in root.walk() where !command.isHidden {
      for example in command.examples {
        out += escapeLine(example.comment) + ":\n.Dl $ \(escape(example.command))\n"
      }
    }
    out += ".Sh SEE ALSO\n.Xr sqlite3 1 ,\n.Xr sysexits 3\n"
    return out
  }

  /// Escapes backslashes for roff, and writes characters beyond ASCII as `\[uXXXX]`.
  static func escape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      if scalar == "\\" {
        out += "\\e"
      } else if scalar.value > 127 {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        out += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// Escapes a text line, protecting a leading dot or quote.
  static func escapeLine(_ text: String) -> String {
    let escaped = escape(text)
    if escaped.hasPrefix(".") || escaped.hasPrefix("'") { return "\\&" + escaped }
    return escaped
  }
}

