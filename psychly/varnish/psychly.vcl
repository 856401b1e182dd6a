vcl 4.1;

# Varnish in front of Psychly's app servers (README, "Production serving"). Needs varnish-modules (xkey).
# Anonymous GETs of public pages are cached for as long as their s-maxage says; the app purges a page the
# moment it changes by its surrogate keys (xkey header: the article, every source it cites, the lists).
# Anyone signed in (a session cookie) and the editorial desk always go to the app.

import std;
import xkey;

# `make serve-varnish` and the tests write the app's address here.
backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}

# Who may purge: the app servers (FRONTEND_CACHE_VARNISH_URLS names this Varnish on each of them).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Not allowed to purge"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "Name the keys to purge in an xkey-purge header"));
        }
        set req.http.n-gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.n-gone + " object(s)"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.url ~ "^/(admin|review|healthz)(/|$)" || req.url ~ "/preview/") {
        return (pass);
    }
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)(sessionid|messages)=") {
        return (pass);
    }
    # Tracking parameters make no new page: one cached copy serves every campaign link. Most URLs carry no
    # query string, and those skip the four rewrites.
    if (req.url ~ "\?") {
        set req.url = regsuball(req.url, "(?i)([?&])(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid)=[^&]*", "\1");
        set req.url = regsuball(req.url, "&{2,}", "&");
        set req.url = regsub(req.url, "\?&", "?");
        set req.url = regsub(req.url, "[?&]$", "");
    }
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    # Only what the app marked public is kept; anything else (a 404, a private page) is fetched every time.
    if (beresp.http.Set-Cookie || beresp.http.Cache-Control !~ "public") {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # Served stale for a while if the app is down; a purge removes the object outright.
    set beresp.grace = 1h;
    return (deliver);
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # The keys are for the caches, not for readers.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
    unset resp.http.Cache-Tag;
}
