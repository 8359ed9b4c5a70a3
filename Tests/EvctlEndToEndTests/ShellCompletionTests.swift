import Foundation
import Testing

/// The committed completion scripts loaded into real bash, zsh and fish (Tests/run.sh installs
/// them), completing commands, options, choices and dynamic values from a store whose names
/// contain spaces.
@Suite struct ShellCompletionTests {
  static let binDir = (BinaryTests.binary as NSString).deletingLastPathComponent

  static func installed(_ shell: String) -> Bool {
    FileManager.default.isExecutableFile(atPath: "/usr/bin/" + shell)
      || FileManager.default.isExecutableFile(atPath: "/bin/" + shell)
  }

  /// A store with a group and a station whose names hold spaces, a user, a token and an operator.
  static func seededStore() throws -> (dir: String, db: String) {
    let dir = NSTemporaryDirectory() + "evctl-complete-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let db = dir + "/e.db"
    for line in [
      ["group", "create", "Head Office"],
      ["group", "create", "Floor 1", "--parent", "Head Office"],
      ["station", "create", "CP-77", "--name", "Lobby left", "--group", "Head Office"],
      ["user", "create", "eva@x.io", "--first", "Eva", "--last", "Berg"],
      ["token", "add", "04A1B2C3", "--user", "eva@x.io", "--name", "Work card"],
      ["operator", "create", "ann@x.io", "--name", "Ann", "--role", "basic"],
    ] {
      let result = try BinaryTests.run(BinaryTests.binary, ["--db", db] + line)
      #expect(result.status == 0, "\(line): \(result.err)")
    }
    return (dir, db)
  }

  /// Runs `script` in `shell` with the built evctl on PATH and the store in EVCTL_DB.
  static func run(_ shell: String, _ arguments: [String], db: String) throws -> String {
    let result = try BinaryTests.run(
      "/usr/bin/env", [shell] + arguments,
      environment: ["PATH": binDir + ":/usr/bin:/bin", "EVCTL_DB": db, "HOME": NSTemporaryDirectory()])
    #expect(result.err.isEmpty, "\(shell) printed on stderr: \(result.err)")
    return result.out
  }

  /// The replies bash gives for each command line (the last word being completed), one block each.
  static func bashReplies(_ lines: [[String]], db: String) throws -> [[String]] {
    var script = "source '\(BinaryTests.root)/Completions/bash/evctl'\n"
    for words in lines {
      let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
      script += "COMP_WORDS=(\(quoted.joined(separator: " "))); COMP_CWORD=\(words.count - 1); _evctl\n"
      script += "printf '%s\\n' \"${COMPREPLY[@]}\"; echo '##'\n"
    }
    return try blocks(run("bash", ["--norc", "--noprofile", "-c", script], db: db))
  }

  static func blocks(_ output: String) -> [[String]] {
    var result: [[String]] = [[]]
    for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
      if line == "##" { result.append([]) } else if !line.isEmpty { result[result.count - 1].append(String(line)) }
    }
    return Array(result.dropLast())
  }

  @Test(.enabled(if: installed("bash"))) func bashCompletesEveryKindOfValue() throws {
    let (dir, db) = try Self.seededStore()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let replies = try Self.bashReplies([
      ["evctl", "st"],
      ["evctl", "station", "sh"],
      ["evctl", "station", "list", "--gr"],
      ["evctl", "station", "list", "-o", ""],
      ["evctl", "station", "show", ""],
      ["evctl", "station", "list", "--group", "He"],
      ["evctl", "station", "list", "--group", "Head\\ Office/"],
      ["evctl", "station", "list", "--group", "\"Head"],
      ["evctl", "user", "show", ""],
      ["evctl", "token", "show", "04"],
      ["evctl", "--db", db, "operator", "show", ""],
    ], db: db)
    #expect(replies.count == 11)
    guard replies.count == 11 else { return }
    #expect(replies[0] == ["station", "status"])
    #expect(replies[1] == ["show"])
    #expect(replies[2] == ["--group"])
    #expect(replies[3] == ["table", "wide", "tsv", "csv", "json"])
    #expect(replies[4] == ["CP-77"])
    // One candidate per name, quoted so that the shell keeps it one word.
    #expect(replies[5] == ["Head\\ Office", "Head\\ Office/Floor\\ 1"])
    #expect(replies[6] == ["Head\\ Office/Floor\\ 1"])
    #expect(replies[7] == ["Head Office", "Head Office/Floor 1"])
    #expect(replies[8] == ["eva@x.io"])
    #expect(replies[9] == ["04A1B2C3"])
    #expect(replies[10] == ["ann@x.io"])
  }

  /// zsh's completion widgets need a terminal, so a harness replaces `compadd` and prints each
  /// candidate with the description it would show (`WORD|SHOWN`).
  @Test(.enabled(if: installed("zsh"))) func zshCompletesWithDescriptions() throws {
    let (dir, db) = try Self.seededStore()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let script = """
      compadd() {
        local __descs=""
        while (( $# )); do
          case $1 in
            -d) __descs=$2; shift 2 ;;
            --) shift; break ;;
            -*) shift ;;
            *) break ;;
          esac
        done
        local i=1 c
        for c in "$@"; do
          if [[ -n $__descs ]]; then print -r -- "$c|${${(P@)__descs}[i]}"; else print -r -- "$c"; fi
          (( i++ ))
        done
      }
      _files() { print -r -- FILES; }
      fpath=('\(BinaryTests.root)/Completions/zsh' $fpath)
      autoload -Uz _evctl
      try() { words=("$@"); CURRENT=$#; _evctl; print -r -- '##'; }
      try evctl ''
      try evctl station ''
      try evctl station list -o ''
      try evctl station show ''
      try evctl station list --group ''
      try evctl user show ''
      try evctl token show ''
      try evctl --db '\(db)' operator show ''
      try evctl station import ''
      """
    let replies = Self.blocks(try Self.run("zsh", ["-f", "-c", script], db: db))
    #expect(replies.count == 9)
    guard replies.count == 9 else { return }
    #expect(replies[0].contains("station|station  -- Manage charging stations and their connectors"))
    #expect(replies[0].contains { $0.hasPrefix("--db|--db  -- Store file") })
    #expect(replies[1].contains("show|show  -- Show everything known about a station"))
    #expect(replies[1].contains { $0.hasPrefix("--output|--output  -- ") })
    #expect(replies[2] == ["table", "wide", "tsv", "csv", "json"])
    #expect(replies[3] == ["CP-77|CP-77  -- Lobby left"])
    #expect(replies[4].contains { $0.hasPrefix("Head Office|Head Office  -- ") })
    #expect(replies[4].contains { $0.hasPrefix("Head Office/Floor 1|Head Office/Floor 1  -- ") })
    #expect(replies[5] == ["eva@x.io|eva@x.io  -- Eva Berg"])
    #expect(replies[6] == ["04A1B2C3|04A1B2C3  -- Work card, eva@x.io"])
    #expect(replies[7] == ["ann@x.io|ann@x.io  -- Ann (basic)"])
    #expect(replies[8] == ["FILES"])
  }

  /// fish's own `complete -C` lists what Tab would offer, with descriptions after a tab.
  @Test(.enabled(if: installed("fish"))) func fishCompletesWithDescriptions() throws {
    let (dir, db) = try Self.seededStore()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let lines = ["evctl st", "evctl station sh", "evctl station list --", "evctl station list -o ",
                 "evctl station show ", "evctl station list --group He", "evctl user show ",
                 "evctl token show ", "evctl --db '\(db)' operator show "]
    var script = "source '\(BinaryTests.root)/Completions/fish/evctl.fish'\n"
    for line in lines { script += "complete -C \"\(line)\"; echo '##'\n" }
    let replies = Self.blocks(try Self.run("fish", ["--no-config", "-c", script], db: db))
    #expect(replies.count == lines.count)
    guard replies.count == lines.count else { return }
    #expect(replies[0].contains("station\tManage charging stations and their connectors"))
    #expect(replies[1] == ["show\tShow everything known about a station"])
    #expect(replies[2].contains { $0.hasPrefix("--group\t") })
    #expect(replies[2].contains { $0.hasPrefix("--db\t") })
    #expect(Set(replies[3]) == ["table", "wide", "tsv", "csv", "json"])
    #expect(replies[4] == ["CP-77\tLobby left"])
    #expect(replies[5].map { $0.split(separator: "\t").first.map(String.init) ?? "" }
            == ["Head Office", "Head Office/Floor 1"])
    #expect(replies[6] == ["eva@x.io\tEva Berg"])
    #expect(replies[7] == ["04A1B2C3\tWork card, eva@x.io"])
    #expect(replies[8] == ["ann@x.io\tAnn (basic)"])
  }
}

/// Tab pressed in an interactive bash and zsh inside tmux: what readline and zle really insert.
@Suite struct InteractiveCompletionTests {
  static let tmux = ["/usr/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

  /// A tmux server of its own (its own socket) running `shell`; `send` types, `screen` reads.
  final class Terminal {
    let socket = "evctl-test-" + UUID().uuidString
    init(_ command: String, db: String) throws {
      let env = "env -i HOME=\(NSTemporaryDirectory()) TERM=xterm PATH=\(ShellCompletionTests.binDir):/usr/bin:/bin EVCTL_DB=\(db) PS1='$ ' "
      try tmux(["-f", "/dev/null", "new-session", "-d", "-x", "200", "-y", "50", env + command])
    }
    /// The shell inherits a signal mask that blocks SIGHUP, so kill-server alone would leave it
    /// (and the server) running: the shell is told to exit first, which ends the server too.
    deinit {
      try? tmux(["send-keys", "C-c", "C-u", "exit", "Enter"])
      for _ in 0..<100 {
        guard (try? BinaryTests.run(InteractiveCompletionTests.tmux!, ["-L", socket, "has-session"]).status) == 0
        else { break }
        Thread.sleep(forTimeInterval: 0.1)
      }
      try? tmux(["kill-server"])
    }

    /// Runs a tmux client with nothing but /dev/null open: the server it may start lives on, and
    /// must not hold open any pipe (ours, or another test's that leaked into the child).
    func tmux(_ arguments: [String]) throws {
      let words = [InteractiveCompletionTests.tmux!, "-L", socket] + arguments
      let line = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
      let closeAll = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-" 2>/dev/null; fi; done; "#
      _ = try BinaryTests.run("/bin/bash", ["-c", closeAll + "exec " + line + " </dev/null >/dev/null 2>&1"])
    }

    func send(_ keys: String...) throws { try tmux(["send-keys"] + keys) }

    /// Waits (up to a generous 20 s) until the screen's last non-empty line is `line`.
    func waitForLastLine(_ line: String) throws -> Bool { try waitForLastLine { $0 == line } }

    func waitForLastLine(where matches: (String) -> Bool) throws -> Bool {
      for _ in 0..<200 {
        let screen = try BinaryTests.run(InteractiveCompletionTests.tmux!, ["-L", socket, "capture-pane", "-p"]).out
        if let last = screen.split(separator: "\n").last, matches(String(last).trimmingCharacters(in: .whitespaces)) {
          return true
        }
        Thread.sleep(forTimeInterval: 0.1)
      }
      return false
    }
  }

  @Test(.enabled(if: tmux != nil && ShellCompletionTests.installed("bash")))
  func bashInsertsANameWithSpacesAsOneWord() throws {
    let (dir, db) = try ShellCompletionTests.seededStore()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let terminal = try Terminal("bash --norc --noprofile", db: db)
    #expect(try terminal.waitForLastLine("$"))
    try terminal.send("source '\(BinaryTests.root)/Completions/bash/evctl'; clear", "Enter")
    #expect(try terminal.waitForLastLine("$"))
    try terminal.send("evctl station list --group Head", "Tab")
    #expect(try terminal.waitForLastLine("$ evctl station list --group Head\\ Office"))
    try terminal.send("/", "Tab")
    #expect(try terminal.waitForLastLine("$ evctl station list --group Head\\ Office/Floor\\ 1"))
    try terminal.send("C-u", "evctl station sh", "Tab", "Tab")
    #expect(try terminal.waitForLastLine("$ evctl station show CP-77"))
  }

  @Test(.enabled(if: tmux != nil && ShellCompletionTests.installed("zsh")))
  func zshCompletesStationsAndNamesWithSpaces() throws {
    let (dir, db) = try ShellCompletionTests.seededStore()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let terminal = try Terminal("zsh -f", db: db)
    #expect(try terminal.waitForLastLine { $0.hasSuffix("#") || $0.hasSuffix("%") || $0 == "$" })
    try terminal.send(
      "fpath=('\(BinaryTests.root)/Completions/zsh' $fpath); autoload -U compinit; compinit -u; PS1='$ '; clear",
      "Enter")
    #expect(try terminal.waitForLastLine("$"))
    try terminal.send("evctl station sh", "Tab")
    #expect(try terminal.waitForLastLine("$ evctl station show"))
    try terminal.send(" ", "Tab")
    #expect(try terminal.waitForLastLine("$ evctl station show CP-77"))
    try terminal.send("C-u", "evctl station list --group Head\\ Office/", "Tab")
    #expect(try terminal.waitForLastLine("$ evctl station list --group Head\\ Office/Floor\\ 1"))
  }
}
