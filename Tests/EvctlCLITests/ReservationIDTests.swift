import EvctlCore
import Foundation
import Testing

/// Reservation ids come from a sequence (issue 14 item 1), never from `max(id) + 1`.
@Suite struct ReservationIDTests {
  /// The ids `reservation list -o json` shows.
  static func ids(_ box: Sandbox) throws -> [Int] {
    let listed = box.run("reservation list -o json")
    #expect(listed.code == .success, "\(listed.err)")
    return try JSONValue.parse(Array(listed.out.utf8)).arrayValue?.compactMap { $0["id"]?.intValue } ?? []
  }

  @Test func anIdIsNeverGivenTwiceEvenAfterItsRowIsDeleted() throws {
    let box = try Sandbox()
    box.run("station create CP-A --name A")
    // serve is not running: the reservation is recorded and then rejected, its id taken.
    let first = box.run("reservation create --station CP-A --connector 1 --id-tag TAG1 --expires 30m")
    #expect(first.code != .success)
    #expect(try Self.ids(box) == [1])
    // Deleting the station deletes its reservations; the id stays used.
    let deleted = box.run("station delete CP-A --yes")
    #expect(deleted.code == .success, "\(deleted.err)")
    #expect(try Self.ids(box) == [])
    box.run("station create CP-B --name B")
    box.run("reservation create --station CP-B --connector 1 --id-tag TAG1 --expires 30m")
    #expect(try Self.ids(box) == [2])
  }
}
