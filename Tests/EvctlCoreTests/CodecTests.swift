import Testing

@testable import EvctlCore

@Suite struct TimestampTests {
  @Test(arguments: [
    ("2026-11-21T08:02:45Z", "2026-11-21T08:02:45.000Z"),
    ("2026-11-21T08:02:45.123Z", "2026-11-21T08:02:45.123Z"),
    ("2026-11-21T08:02:45.1234567Z", "2026-11-21T08:02:45.123Z"),
    ("2026-11-21T10:02:45+02:00", "2026-11-21T08:02:45.000Z"),
    ("2026-11-21T03:02:45-0500", "2026-11-21T08:02:45.000Z"),
    ("2026-11-21T08:02:45", "2026-11-21T08:02:45.000Z"),
    ("2026-11-21", "2026-11-21T00:00:00.000Z"),
    ("2026-11-21 08:02", "2026-11-21T08:02:00.000Z"),
  ])
  func parsesLeniently(input: String, expected: String) {
    #expect(Timestamp(parsing: input)?.iso8601 == expected)
  }

  @Test(arguments: ["", "yesterday", "2026-13-01", "2026-11-21T25:00:00Z", "2026-11-21Tx", "2026-11-21T08:02:45Q"])
  func rejectsNonsense(input: String) {
    #expect(Timestamp(parsing: input) == nil)
  }

  /// The stored form's short path (``Timestamp/parseStored(_:)``) reads what the general parser
  /// reads, and leaves to it (or refuses) what is not exactly that form.
  @Test(arguments: [
    "2026-11-21T08:02:45.123Z", "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "0000-03-01T00:00:00.000Z",
    "2024-02-29T23:59:60.000Z", "2026-11-21T08:02:45.12xZ", "2026-11-21T24:00:00.000Z", "2026-00-21T08:02:45.123Z",
    "2026-11-32T08:02:45.123Z", "2026-11-21T08:60:45.123Z", "2026-11-21t08:02:45.123Z", "2026-11-21T08:02:45.123z",
    "2026-11-21T08:02:45,123Z", "-026-11-21T08:02:45.123Z", "2026-11-21T08:02:45.123+",
  ])
  func storedFormShortPathAgreesWithTheParser(text: String) {
    var copy = text
    let short = copy.withUTF8 { Timestamp.parseStored($0) }
    let general = copy.withUTF8 { Timestamp.parse($0) }
    if let short { #expect(short == general, "\(text)") }
    #expect(Timestamp(parsing: text) == general, "\(text)")
    // The exact stored form of a valid time always takes the short path.
    if let general, general.iso8601 == text { #expect(short != nil, "\(text)") }
  }

  @Test func storedTextSortsLikeTime() {
    let a = Timestamp(parsing: "2026-11-21T08:02:45Z")!
    let b = Timestamp(parsing: "2026-11-21T08:02:45.5Z")!
    #expect(a < b)
    #expect(a.iso8601 < b.iso8601)
  }
}

@Suite struct JSONTests {
  @Test func roundTripsEveryKind() throws {
    let text = #"{"a":[1,-2.5,true,false,null],"b":"x\"y\\z\n","c":{},"d":[],"e":"é😀"}"#
    let value = try JSONValue.parse(text)
    #expect(value.compact == text.replacingOccurrences(of: "é😀", with: "é😀"))
    #expect(try JSONValue.parse(value.compact) == value)
  }

  /// The writer appends digits and unescaped runs straight into the buffer (serve writes every
  /// answer with it): the bytes are exactly what they were.
  @Test func writerBytesAreExact() {
    let value: JSONValue = [
      "s": .string("a\"b\\c\n\r\t\u{1}\u{1F}é😀 end"), "e": "", "i": .int(Int64.min), "j": .int(Int64.max),
      "z": .int(0), "n": .int(-42), "d": .double(2.5), "w": .double(3), "x": .double(.infinity),
      "t": true, "f": false, "0": .null, "a": [1, "two", [:], []],
    ]
    #expect(value.compact == #"{"0":null,"a":[1,"two",{},[]],"d":2.5,"e":"","f":false,"i":-9223372036854775808,"#
      + #""j":9223372036854775807,"n":-42,"s":"a\"b\\c\n\r\t\u0001\u001fé😀 end","t":true,"w":3,"x":null,"z":0}"#)
  }

  @Test func prettyOutputIsSortedAndStable() throws {
    let value: JSONValue = ["b": 1, "a": ["x": nil]]
    #expect(value.pretty == "{\n  \"a\": {\n    \"x\": null\n  },\n  \"b\": 1\n}")
  }

  /// Objects in arrays reuse the key order of an earlier object of the same size only when their
  /// keys are the same: same-sized objects with other keys are sorted on their own.
  @Test func objectsInArraysAreSortedWhateverTheirNeighbours() throws {
    let value: JSONValue = [
      ["b": 1, "a": 2, "c": 3], ["z": 1, "y": 2, "x": 3], ["c": 1, "b": 2, "a": 3],
      ["a": 1, "b": 2, "d": 3], ["é": 1, "e": 2, "f": 3], [["q": ["n": 1, "m": 2], "p": 0]],
    ]
    #expect(value.compact == #"[{"a":2,"b":1,"c":3},{"x":3,"y":2,"z":1},{"a":3,"b":2,"c":1},"#
      + #"{"a":1,"b":2,"d":3},{"e":2,"f":3,"é":1},[{"p":0,"q":{"m":2,"n":1}}]]"#)
    let many = JSONValue.array((0..<50).map { i in i % 2 == 0 ? ["k\(i)": 1, "a": 2] : ["b": 1, "a": 2] })
    let text = many.compact
    #expect(text.hasPrefix(#"[{"a":2,"k0":1},{"a":2,"b":1},{"a":2,"k2":1},"#))
    #expect(text.hasSuffix(#"{"a":2,"k48":1},{"a":2,"b":1}]"#))
  }

  @Test func decodesEscapesAndSurrogatePairs() throws {
    #expect(try JSONValue.parse(#""\u00e9\ud83d\ude00\/""#) == .string("é😀/"))
  }

  @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "01", "\"\u{01}\"", "[1] x", "\"\\ud800\"", "1.", "-"])
  func rejectsInvalidJSON(text: String) {
    #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
  }

  @Test func refusesDeepNesting() {
    let text = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
    #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
  }

  @Test func keepsLargeIntegersExact() throws {
    #expect(try JSONValue.parse("9007199254740993") == .int(9_007_199_254_740_993))
  }
}

@Suite struct CSVReaderTests {
  @Test func readsQuotesLineBreaksAndCRLF() throws {
    let text = "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",z\r\n"
    let records = try CSVReader.parse(text)
    #expect(records == [
      CSVRecord(line: 1, fields: ["a", "b"]),
      CSVRecord(line: 2, fields: ["x, y", "say \"hi\""]),
      CSVRecord(line: 3, fields: ["multi\nline", "z"]),
    ])
  }

  @Test func skipsBlankLinesAndABOM() throws {
    let records = try CSVReader.parse("\u{FEFF}a\n\nb\n")
    #expect(records.map(\.fields) == [["a"], ["b"]])
    #expect(records.map(\.line) == [1, 3])
  }

  @Test func reportsTheLineOfABadQuote() {
    #expect(throws: CSVError(line: 2, reason: "unexpected quote inside an unquoted field")) {
      try CSVReader.parse("a\nb\"c\n")
    }
    #expect(throws: CSVError(line: 1, reason: "unterminated quoted field")) {
      try CSVReader.parse("\"abc\n")
    }
  }
}

@Suite struct CryptoTests {
  @Test func base64RoundTrips() {
    for length in 0..<10 {
      let bytes = (0..<length).map { UInt8($0 * 37 & 0xFF) }
      #expect(Crypto.unbase64(Crypto.base64(bytes)) == bytes)
    }
    #expect(Crypto.base64(Array("Man".utf8)) == "TWFu")
  }

  @Test func passwordHashesVerify() {
    let hash = PasswordHash.make(Array("secret123".utf8), iterations: 1000)
    #expect(PasswordHash.verify(Array("secret123".utf8), against: hash))
    #expect(!PasswordHash.verify(Array("secret124".utf8), against: hash))
    #expect(!PasswordHash.verify(Array("secret123".utf8), against: "garbage"))
  }

  @Test func sha1MatchesTheKnownVector() {
    #expect(Crypto.hex(Crypto.sha1(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
  }
}

@Suite struct DurationTests {
  @Test func parsesUnits() {
    #expect(DurationText.seconds("90d") == Int64(7_776_000))
    #expect(DurationText.seconds("15m") == 900)
    #expect(DurationText.seconds("30") == 30)
    #expect(DurationText.seconds("2w") == 1_209_600)
    #expect(DurationText.seconds("x") == nil)
    #expect(DurationText.seconds("-5d") == nil)
  }
}
