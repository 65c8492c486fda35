#!lua flags=no-writes
-- What the reports say about a number. KEYS: its reporters, the known-scam set.
-- ARGV: 30 days ago, the number. Returns {'reporters_30d', n, 'known_scam', 0 | 1}.
return {'reporters_30d', redis.call('ZCOUNT', KEYS[1], ARGV[1], '+inf'),
        'known_scam', redis.call('SISMEMBER', KEYS[2], ARGV[2])}
