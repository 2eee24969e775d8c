"""Budget alerts: threshold crossings claimed once per period, sent to webhooks and email."""
