/// The Lua scripts that make a Redis notification and its dedupe marker one atomic step.
///
/// `EVAL` runs a script without interleaving any other client's command, so "is this idempotency key
/// already marked? if not, add the entry and mark it" cannot race with a concurrent retry. A MULTI with
/// `SET NX` could not do this: every command queued in a MULTI runs whatever the `SET NX` answered.
/// The marker's value is the result of the first run (the entry ID, the receiver count), so a
/// deduplicated retry answers exactly what the first attempt did.
enum RedisScripts {
    /// KEYS[1] marker, KEYS[2] stream; ARGV[1] marker TTL (s), ARGV[2] MAXLEN ("" for none), ARGV[3...]
    /// field, value, ... → {entry id, 1 if deduplicated else 0}
    static let xadd = """
        local prev = redis.call('GET', KEYS[1])
        if prev then return {prev, 1} end
        local args = {'XADD', KEYS[2]}
        if ARGV[2] ~= '' then
          args[#args + 1] = 'MAXLEN'; args[#args + 1] = '~'; args[#args + 1] = ARGV[2]
        end
        args[#args + 1] = '*'
        for i = 3, #ARGV do args[#args + 1] = ARGV[i] end
        local id = redis.call(unpack(args))
        redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
        return {id, 0}
        """

    /// KEYS[1] marker; ARGV[1] marker TTL (s), ARGV[2] channel, ARGV[3] message
    /// → {receivers as text, 1 if deduplicated else 0}
    static let publish = """
        local prev = redis.call('GET', KEYS[1])
        if prev then return {prev, 1} end
        local n = redis.call('PUBLISH', ARGV[2], ARGV[3])
        redis.call('SET', KEYS[1], tostring(n), 'EX', ARGV[1])
        return {tostring(n), 0}
        """

    /// The marker key of an idempotency key. The stream or channel is its hash tag (`{...}`), so that
    /// on a Redis Cluster the marker and the stream land in the same slot, as one script requires.
    static func markerKey(prefix: String, kind: String, target: String, idempotencyKey: String) -> String {
        "\(prefix)\(kind):{\(target)}:\(idempotencyKey)"
    }
}
