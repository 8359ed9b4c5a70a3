import EvctlCore
import EvctlServer

/// What one simulated connector is doing.
struct ConnectorState {
  var status = "Available"
  var errorCode = "NoError"
  var plugged = false
  var faulted = false
  var faultCode = "OtherError"
  /// Operative per ChangeAvailability; `pendingOperative` waits for the transaction to end.
  var operative = true
  var pendingOperative: Bool?
  var reservationId: Int?
  var reservationTag: String?
  var reservationExpiry: Timestamp?
  /// The transaction, once StartTransaction was answered.
  var transactionId: Int?
  var transactionTag: String?
  var starting = false
  var meterStartWh: Double = 0
  /// The energy register in Wh; it never goes back.
  var energyWh: Double = 0
  var targetWatts: Double = 0
  /// Real time when charging started, and when the scenario ends it (nil: until stopped).
  var chargeStartedAt: Double = 0
  var chargeEndsAt: Double?
  var lastIntegratedAt: Double = 0
  var soc: Double = 20
  var powerWatts: Double = 0
  var nextMeterAt: Double?
  var transactionData: [JSONValue] = []
  /// Whether the scenario waits for this session to end.
  var scenarioOwned = false
}

/// A call sent and not yet answered.
struct PendingCall {
  var action: String
  var sentAt: Double
  var context: Int
}

/// A call waiting for the one in flight to be answered (OCPP-J allows one at a time).
struct QueuedCall {
  var action: String
  var payload: JSONValue
  var context: Int
}

/// One simulated charge point: its connection, registration, connectors and scenario position.
final class SimStation {
  enum Link { case down, connecting, securing, handshaking, open }
  enum Registration { case none, pending, accepted, rejected }

  let index: Int
  let identity: String
  var link = Link.down
  var fd: Int32 = -1
  var input: [UInt8] = []
  var output: [UInt8] = []
  var watchingWrites = false
  var handshake: ClientHandshake?
  var tls: TLSSession?
  var assembler = WebSocketMessageAssembler(maxMessage: 4 << 20)
  var connectStartedAt: Double = 0
  var connectDeadline: Double?
  /// Counted in the simulator's TLS handshakes under way (wss:// only).
  var holdsHandshakeSlot = false
  var reconnectAt: Double?
  var failures = 0
  var everConnected = false

  var registration = Registration.none
  var bootAt: Double?
  var heartbeatAt: Double?
  var heartbeatSeconds: Double = 300
  var loadAt: Double?
  /// When the last load-mode CALL was due: the next is due one interval later, whenever the
  /// answer came (a fixed schedule, as `loadgen.py` keeps; timing the next CALL from the answer
  /// would make stations answered in the same batch send together again, and clump).
  var loadSlot: Double?
  var inFlight: [String: PendingCall] = [:]
  var queue: [QueuedCall] = []
  var nextMessageId = 1
  var rebootAt: Double?
  var bootedOnce = false

  var connectors: [ConnectorState]
  var configuration: ConfigurationKeys
  var localList: [String: JSONValue] = [:]
  var localListVersion = 0
  var authCache: [String: String] = [:]
  var profiles: [ChargingProfileEntry] = []
  var firmwareStatus = "Idle"
  /// FirmwareStatusNotification Installed is due after the next boot.
  var reportInstalled = false
  var diagnosticsStatus = "Idle"
  var pendingFirmware: (location: String, at: Double)?
  var pendingDiagnostics: (location: String, at: Double)?

  var step = 0
  var stepAt: Double?
  var stepWaiting = false
  var scenarioDone = false
  var currentTag: String?

  var wakeAt: Double = .infinity

  init(index: Int, identity: String, connectors: Int) {
    self.index = index
    self.identity = identity
    self.connectors = Array(repeating: ConnectorState(), count: connectors + 1)
    self.configuration = ConfigurationKeys(connectors: connectors)
  }

  /// The earliest time something is due.
  func nextDeadline(callTimeout: Double) -> Double {
    var next = Double.infinity
    for time in [connectDeadline, reconnectAt, bootAt, heartbeatAt, loadAt, stepAt, rebootAt,
                 pendingFirmware?.at, pendingDiagnostics?.at] {
      if let time, time < next { next = time }
    }
    for connector in connectors {
      if let time = connector.nextMeterAt, time < next { next = time }
      if let time = connector.chargeEndsAt, time < next { next = time }
    }
    for call in inFlight.values where call.sentAt + callTimeout < next { next = call.sentAt + callTimeout }
    return next
  }
}

