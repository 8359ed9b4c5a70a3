import Testing

@testable import EvctlServer

/// serve's log lines: levels, journald priorities, key=value fields that stay on one line.
@Suite struct ServeLogTests {
  @Test func levelsFilterAndJournalPrioritiesPrefix() {
    let plain = ServeLog(minimum: .warning, journal: false)
    #expect(plain.render("info: station connected identity=A") == nil)
    #expect(plain.render("warning: connection refused peer=1.2.3.4:5") == "evctl: warning: connection refused peer=1.2.3.4:5")
    let journal = ServeLog(minimum: .debug, journal: true)
    #expect(journal.render("debug: call") == "<7>evctl: debug: call")
    #expect(journal.render("info: x") == "<6>evctl: info: x")
    #expect(journal.render("warning: x") == "<4>evctl: warning: x")
    #expect(journal.render("error: x") == "<3>evctl: error: x")
    #expect(journal.always(.info, "stopped") == "<6>evctl: stopped")
  }

  @Test func fieldsQuoteSpacesAndEscapeControlCharacters() {
    #expect(ServeLog.fields(["identity": "CP-1", "model": "Eve Single", "gone": nil]) == #"identity=CP-1 model="Eve Single""#)
    #expect(ServeLog.fields(["vendor": "\u{1b}]0;pwned\u{07}\n"]) == #"vendor="\x1b]0;pwned\x07\x0a""#)
    #expect(ServeLog.fields(["reason": #"say "hi" \ bye"#]) == #"reason="say \"hi\" \\ bye""#)
    #expect(ServeLog.fields(["empty": ""]) == #"empty="""#)
  }

  @Test func journalStreamMustNameStandardError() {
    #expect(!ServeLog.isJournal(nil))
    #expect(!ServeLog.isJournal("garbage"))
    #expect(!ServeLog.isJournal("1:2"))
  }
}
