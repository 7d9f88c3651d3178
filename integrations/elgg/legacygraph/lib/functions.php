<?php
/**
 * The callbacks of legacygraph's web service methods. Each answers plain JSON values (ints as
 * ints) and reads entities as the logged-in user, so Elgg's access rules apply; errors are
 * APIExceptions, which Elgg answers as {"status": -1, "message": ...}.
 */

use Elgg\Activity\GroupRiverFilter;

/** Pages are at most this long, whatever `limit` says. */
const LEGACYGRAPH_MAX_LIMIT = 100;

/**
 * What `$make` gives in the web page's viewtype: the API's (json) has no link views, and the
 * default icon's URL names the viewtype.
 */
function legacygraph_as_web_page(callable $make) {
	$viewtype = elgg_get_viewtype();
	elgg_set_viewtype('default');
	try {
		return $make();
	} finally {
		elgg_set_viewtype($viewtype);
	}
}

/**
 * A user as the gateway reads it; the e-mail address only for the user themself and administrators.
 */
function legacygraph_user(\ElggUser $user): array {
	$viewer = elgg_get_logged_in_user_entity();
	$location = $user->location;
	if (is_array($location)) {
		$location = implode(', ', $location);
	}
	$avatar = legacygraph_as_web_page(fn () => $user->getIconURL('medium'));
	$found = [
		'guid' => (int) $user->guid,
		'username' => (string) $user->username,
		'name' => (string) $user->getDisplayName(),
		'avatar_url' => $avatar,
		'location' => $location ? (string) $location : null,
	];
	if ($viewer instanceof \ElggUser && ($viewer->guid === $user->guid || $viewer->isAdmin())) {
		$found['email'] = (string) $user->email;
	}
	return $found;
}

/**
 * A group as the gateway reads it: `membership` is "open" or "closed".
 */
function legacygraph_group(\ElggGroup $group): array {
	return [
		'guid' => (int) $group->guid,
		'name' => (string) $group->getDisplayName(),
		'description' => $group->description ? (string) $group->description : null,
		'membership' => $group->isPublicMembership() ? 'open' : 'closed',
		'members_count' => (int) $group->getMembers(['count' => true]),
		'owner_guid' => (int) $group->owner_guid,
		'time_created' => (int) $group->time_created,
	];
}

function legacygraph_page(int $limit, int $offset): array {
	return [
		'limit' => max(1, min($limit, LEGACYGRAPH_MAX_LIMIT)),
		'offset' => max(0, $offset),
	];
}

function legacygraph_user_named(string $username): \ElggUser {
	if ($username === '') {
		return elgg_get_logged_in_user_entity();
	}
	$user = elgg_get_user_by_username($username);
	if (!$user instanceof \ElggUser) {
		throw new \APIException("User {$username} not found");
	}
	return $user;
}

function legacygraph_group_of(int $guid): \ElggGroup {
	$group = get_entity($guid);
	if (!$group instanceof \ElggGroup) {
		throw new \APIException("Group {$guid} not found");
	}
	return $group;
}

/** Whether the logged-in user may see who is in a group: anyone for an open group. */
function legacygraph_may_see_members(\ElggGroup $group): bool {
	if ($group->isPublicMembership()) {
		return true;
	}
	$viewer = elgg_get_logged_in_user_entity();
	return $viewer instanceof \ElggUser && ($group->isMember($viewer) || $group->canEdit($viewer->guid));
}

function legacygraph_get_profile(string $username = ''): array {
	return legacygraph_user(legacygraph_user_named($username));
}

function legacygraph_get_user_by_email(string $email): array {
	$user = elgg_get_user_by_email($email);
	return $user instanceof \ElggUser ? [legacygraph_user($user)] : [];
}

function legacygraph_groups(array $options, int $limit, int $offset): array {
	$groups = elgg_get_entities($options + legacygraph_page($limit, $offset) + [
		'type' => 'group',
		'sort_by' => ['property_type' => 'attribute', 'property' => 'guid', 'direction' => 'asc'],
	]);
	return array_map('legacygraph_group', $groups ?: []);
}

function legacygraph_get_user_groups(string $username = '', int $limit = 10, int $offset = 0): array {
	$user = legacygraph_user_named($username);
	return legacygraph_groups([
		'relationship' => 'member',
		'relationship_guid' => $user->guid,
	], $limit, $offset);
}

function legacygraph_get_groups(int $limit = 10, int $offset = 0): array {
	return legacygraph_groups([], $limit, $offset);
}

function legacygraph_get_group(int $guid): array {
	return legacygraph_group(legacygraph_group_of($guid));
}

function legacygraph_get_members(int $guid, int $limit = 10, int $offset = 0): array {
	$group = legacygraph_group_of($guid);
	if (!legacygraph_may_see_members($group)) {
		throw new \APIException('The members of this group are visible to its members only.');
	}
	$members = $group->getMembers(legacygraph_page($limit, $offset) + [
		'sort_by' => ['property_type' => 'attribute', 'property' => 'guid', 'direction' => 'asc'],
	]);
	return array_map('legacygraph_user', $members ?: []);
}

function legacygraph_get_river(int $limit = 10, int $offset = 0, int $group_guid = 0): array {
	$options = legacygraph_page($limit, $offset);
	if ($group_guid) {
		$group = legacygraph_group_of($group_guid);
		// the activity plugin's filter (what a group's activity page lists); without that plugin,
		// the items about the group itself
		$options['wheres'] = [class_exists(GroupRiverFilter::class)
			? new GroupRiverFilter($group)
			: fn ($qb, $alias) => $qb->compare("{$alias}.object_guid", '=', $group->guid, ELGG_VALUE_GUID)];
	}
	$items = elgg_get_river($options);
	$answer = [];
	foreach ($items ?: [] as $item) {
		$subject = $item->getSubjectEntity();
		$object = $item->getObjectEntity();
		if (!$subject instanceof \ElggEntity) {
			continue;
		}
		$summary = legacygraph_as_web_page(fn () => elgg_view('river/elements/summary', ['item' => $item]));
		$answer[] = [
			'id' => (int) $item->id,
			'action_type' => (string) $item->action_type,
			'subject_guid' => (int) $item->subject_guid,
			'subject_username' => (string) $subject->username,
			'subject_name' => (string) $subject->getDisplayName(),
			'object_guid' => (int) $item->object_guid,
			'object_title' => $object instanceof \ElggEntity ? (string) $object->getDisplayName() : null,
			'summary' => trim(preg_replace('/\s+/', ' ', html_entity_decode(strip_tags($summary), ENT_QUOTES))),
			'posted' => (int) $item->posted,
		];
	}
	return $answer;
}

function legacygraph_join_group(int $guid): array {
	$user = elgg_get_logged_in_user_entity();
	$group = legacygraph_group_of($guid);
	if ($group->isMember($user)) {
		return ['success' => true];
	}
	$may = $group->isPublicMembership() || $group->canEdit($user->guid) || $group->hasRelationship($user->guid, 'invited');
	if (!$may) {
		throw new \APIException('This is a closed group. You need an invitation to join.');
	}
	if (!$group->join($user, ['create_river_item' => true])) {
		throw new \APIException(elgg_echo('groups:cantjoin'));
	}
	return ['success' => true];
}
