import EvctlCLI
import Foundation

let status = CLI.run(
  Array(CommandLine.arguments.dropFirst()),
  console: .standard(environment: ProcessInfo.processInfo.environment))
exit(status.rawValue)
