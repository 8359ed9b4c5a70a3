// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "evctl",
  products: [
    .executable(name: "evctl", targets: ["evctl"])
  ],
  targets: [
    // C: the only places that know about <sqlite3.h>, <openssl/*.h> and <sys/epoll.h>.
    .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
    .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CLinux"),

    // Libraries: everything testable lives here.
    .target(name: "EvctlCore", dependencies: ["CSQLite", "COpenSSL"]),
    .target(name: "EvctlServer", dependencies: ["EvctlCore", "CLinux", "COpenSSL"]),
    .target(name: "EvctlCLI", dependencies: ["EvctlCore", "EvctlServer"]),

    // The thin executable: parses nothing, decides nothing.
    .executableTarget(name: "evctl", dependencies: ["EvctlCLI"]),

    // Tests mirror the library targets, plus one black-box suite through the built binary.
    .testTarget(name: "EvctlCoreTests", dependencies: ["EvctlCore"]),
    .testTarget(name: "EvctlServerTests", dependencies: ["EvctlServer"]),
    .testTarget(name: "EvctlCLITests", dependencies: ["EvctlCLI"]),
    .testTarget(name: "EvctlEndToEndTests", dependencies: ["evctl"]),
  ]
)
