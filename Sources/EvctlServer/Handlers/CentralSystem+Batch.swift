import EvctlCore

extension CentralSystem {
  /// Forgets what the current batch gathered in memory (frames, last-seen times, leniency
  /// counters) after the transport rolled the batch back, so that nothing that failed is
  /// retried with the next batch.
  public func discardPendingWrites() {
    pendingFrames.removeAll(keepingCapacity: true)
    lastSeenPending.removeAll(keepingCapacity: true)
    leniencyPending.removeAll(keepingCapacity: true)
    // A rolled-back boot leaves the stored status as it was: ask the store again.
    registrationSettled.removeAll(keepingCapacity: true)
    faultAlarmKnownClear.removeAll(keepingCapacity: true)
  }
}
