<?php
/**
 * legacygraph: the web service methods the legacygraph gateway calls (its `legacygraph` method
 * profile). Every method requires API authentication (the gateway's API key pair, HMAC-signed);
 * the methods that act as a user require that user's token (`auth.gettoken`). Answers follow
 * Elgg's own access rules for the logged-in user.
 */
require_once __DIR__ . '/lib/functions.php';

$paging = [
	'limit' => ['type' => 'int', 'required' => false, 'default' => 10],
	'offset' => ['type' => 'int', 'required' => false, 'default' => 0],
];

return [
	'plugin' => [
		'name' => 'legacygraph',
		'version' => '1.0.0',
	],
	'web_services' => [
		'user.get_profile' => [
			'GET' => [
				'callback' => 'legacygraph_get_profile',
				'description' => "A user's profile (the caller's own without a username); e-mail only for themself and administrators",
				'params' => [
					'username' => ['type' => 'string', 'required' => false, 'default' => ''],
				],
				'require_api_auth' => true,
				'require_user_auth' => true,
			],
		],
		'user.get_user_by_email' => [
			'GET' => [
				'callback' => 'legacygraph_get_user_by_email',
				'description' => 'The users whose e-mail address is this one (a list of none or one)',
				'params' => [
					'email' => ['type' => 'string', 'required' => true],
				],
				'require_api_auth' => true,
				'require_user_auth' => true,
			],
		],
		'user.get_groups' => [
			'GET' => [
				'callback' => 'legacygraph_get_user_groups',
				'description' => "A page of a user's groups (the caller's own without a username), oldest first",
				'params' => [
					'username' => ['type' => 'string', 'required' => false, 'default' => ''],
				] + $paging,
				'require_api_auth' => true,
				'require_user_auth' => true,
			],
		],
		'group.get_groups' => [
			'GET' => [
				'callback' => 'legacygraph_get_groups',
				'description' => "A page of the site's groups, oldest first",
				'params' => $paging,
				'require_api_auth' => true,
				'require_user_auth' => false,
			],
		],
		'group.get' => [
			'GET' => [
				'callback' => 'legacygraph_get_group',
				'description' => 'One group',
				'params' => [
					'guid' => ['type' => 'int', 'required' => true],
				],
				'require_api_auth' => true,
				'require_user_auth' => false,
			],
		],
		'group.get_members' => [
			'GET' => [
				'callback' => 'legacygraph_get_members',
				'description' => "A page of a group's members; a closed group's only to its members, its owner and administrators",
				'params' => [
					'guid' => ['type' => 'int', 'required' => true],
				] + $paging,
				'require_api_auth' => true,
				'require_user_auth' => false,
			],
		],
		'site.river' => [
			'GET' => [
				'callback' => 'legacygraph_get_river',
				'description' => "A page of the site's activity, or of one group's, newest first",
				'params' => $paging + [
					'group_guid' => ['type' => 'int', 'required' => false, 'default' => 0],
				],
				'require_api_auth' => true,
				'require_user_auth' => false,
			],
		],
		'group.join' => [
			'POST' => [
				'callback' => 'legacygraph_join_group',
				'description' => 'The caller joins a group: an open one, or a closed one they are invited to or may edit',
				'params' => [
					'guid' => ['type' => 'int', 'required' => true],
				],
				'require_api_auth' => true,
				'require_user_auth' => true,
			],
		],
	],
];
