// Package media lets the city's intake download the files citizens attached, without
// ever seeing a channel's credentials.
//
// A submission carries each attachment as the channel's own file reference (a Telegram
// file_id, a Zalo URL). The intake gets a link to the gateway instead:
//
//	{PUBLIC_BASE_URL}/media/{id}?exp=<unix seconds>&sig=<hex HMAC-SHA256>
//
// where id is the base64url (unpadded) JSON of the channel, the reference, the kind, the
// MIME type and the file name, and sig is HMAC-SHA256(key, "media/v1.<id>.<exp>"). The
// Handler checks the signature (403) and the expiry (410), then asks the channel's
// Fetcher for the file and streams it: the Telegram download URL, which holds the bot
// token, is fetched server-side and never leaves the process, not even in a log line.
//
// The id is signed, not encrypted: a Zalo URL inside it is readable by whoever holds the
// link, which is why only references that are not secrets may go in it.
package media
