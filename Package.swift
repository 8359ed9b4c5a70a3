// swift-tools-version:6.0
import PackageDescription

/// Warnings are errors in the shipped targets, so the build stays warning-free.
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
  name: "evctl",
  products: [
    .executable(name: "evctl", targets: ["evctl"])
  ],
  targets: [
    // C: the only places that know about <sqlite3.h>, <libpq-fe.h>, <openssl/*.h> and <sys/epoll.h>.
    .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
    .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CLinux"),
    .systemLibrary(name: "CTLS", providers: [.apt(["libssl-dev"])]),
    // libcurl's SMTP client, for serve's mail (alarms, invitations, password resets).
    .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
    // libpq: the PostgreSQL backend of the store (issue 14).
    .systemLibrary(name: "CLibPQ", providers: [.apt(["libpq-dev"])]),
    // libpq and libcurl are loaded on first use, not at start (issue 15: their ~30 shared
    // libraries were most of every command's start-up); their module maps link nothing.
    .target(name: "CLoadOnUse"),

    // Libraries: everything testable lives here. A warning fails the build (Tests/run.sh also
    // refuses SwiftPM's own warnings).
    .target(name: "EvctlCore", dependencies: ["CSQLite", "COpenSSL", "CLibPQ", "CLoadOnUse"], swiftSettings: strict),
    .target(name: "EvctlServer", dependencies: ["EvctlCore", "CLinux", "COpenSSL", "CCurl", "CLoadOnUse"], swiftSettings: strict),
    // `evctl simulate`: OCPP 1.6J charge points, the client side of the server's codecs.
    .target(name: "EvctlSimulator", dependencies: ["EvctlCore", "EvctlServer", "CLinux", "CTLS"],
            swiftSettings: strict),
    .target(name: "EvctlCLI", dependencies: ["EvctlCore", "EvctlServer", "EvctlSimulator"],
            swiftSettings: strict),

    // The thin executable: parses nothing, decides nothing.
    .executableTarget(name: "evctl", dependencies: ["EvctlCLI"], swiftSettings: strict),

    // Tests mirror the library targets, plus one black-box suite through the built binary.
    // EvctlTestSupport: the one backend switch (SQLite or a fresh PostgreSQL database per store,
    // `EVCTL_TEST_BACKEND`) that the store, server and CLI tests share.
    .target(name: "EvctlTestSupport", dependencies: ["EvctlCore"], path: "Tests/EvctlTestSupport",
            swiftSettings: strict),
    .testTarget(name: "EvctlCoreTests", dependencies: ["EvctlCore", "EvctlTestSupport"]),
    .testTarget(name: "EvctlServerTests", dependencies: ["EvctlServer", "EvctlTestSupport"]),
    .testTarget(name: "EvctlSimulatorTests", dependencies: ["EvctlSimulator"]),
    .testTarget(name: "EvctlCLITests", dependencies: ["EvctlCLI", "EvctlTestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "EvctlEndToEndTests", dependencies: ["evctl"]),
  ]
)
