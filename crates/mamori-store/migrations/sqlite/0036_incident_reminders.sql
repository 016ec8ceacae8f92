-- Each incident duty's reminder (incident.deadline_soon) goes out once: its jurisdiction and
-- recipient, the due time it was sent for.
CREATE TABLE incident_reminders (
    incident_id BLOB NOT NULL REFERENCES incidents (id),
    duty TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    PRIMARY KEY (incident_id, duty)
);
