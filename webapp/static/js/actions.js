// actions.js — what a user does on an activity: check in, undo, register a
// walk-in. Each action goes to the outbox first (durable), then into the
// in-memory presence, then a sync is requested.

import * as outbox from './outbox.js';
import * as roster from './roster.js';
import { kick } from './sync.js';
import { uuidv7 } from './uuid.js';
import { personKey } from './search.js';

/** checkIn records that person ({kind, id}) is at activityId. */
export async function checkIn(activityId, person, method) {
  const m = await outbox.record('attendance.check_in', { activity_id: activityId, person: { kind: person.kind, id: person.id }, method });
  roster.addJournal({ ...m, status: 'pending' });
  kick();
  return m;
}

/**
 * undo cancels person's presence at activityId, naming every check-in the
 * phone knows of for that pair (its own and the pulled ones).
 */
export async function undo(activityId, person) {
  const undoes = roster.state(activityId, person).checkInIds;
  const m = await outbox.record('attendance.undo', { activity_id: activityId, person: { kind: person.kind, id: person.id }, undoes });
  roster.addJournal({ ...m, status: 'pending' });
  kick();
  return m;
}

/**
 * registerWalkIn records a trainee who is not on the roster (a new UUID
 * id) and checks them in at activityId.
 */
export async function registerWalkIn(activityId, fields) {
  const trainee = {
    id: uuidv7(),
    last_name: fields.last_name.trim(),
    first_name: fields.first_name.trim(),
    establishment_code: fields.establishment_code,
    program: (fields.program || '').trim(),
    group: (fields.group || '').trim(),
    gender: fields.gender || '',
  };
  await outbox.record('trainee.register', { trainee });
  roster.addTrainee({ id: trainee.id, data: { trainee_id: trainee.id, ...trainee }, sk: personKey(trainee), local: true });
  return checkIn(activityId, { kind: 'trainee', id: trainee.id }, 'manual');
}
